package io.annflight.sampling;

/** {@code sequential}: the rows in collection order. */
final class SequentialSampler implements EpochSampler {
  @Override
  public EpochOrder order(EpochRows rows) {
    if (rows.isAll()) {
      return EpochOrder.identity(rows.size());
    }
    return new EpochOrder() {
      @Override
      public long length() {
        return rows.size();
      }

      @Override
      public long row(long position) {
        return rows.row(position);
      }
    };
  }
}
