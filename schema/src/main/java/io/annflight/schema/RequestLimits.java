package io.annflight.schema;

/**
 * The bound on every part of a request, checked before any work starts; beyond one the request
 * is refused with a {@link RequestException} naming the key and the bound. They keep one
 * client from costing the server unbounded memory or time; the README lists them.
 */
public final class RequestLimits {
  /** A descriptor command or an action body, in UTF-8 bytes. */
  public static final int MAX_REQUEST_BYTES = 4 << 20;
  /** A ticket, in UTF-8 bytes: room for {@link #MAX_INDICES} indices of up to ten digits. */
  public static final int MAX_TICKET_BYTES = 64 << 20;
  /** Indices one ticket may list (32 MiB of longs); split larger lists over tickets. */
  public static final int MAX_INDICES = 4_000_000;
  /** Entries of {@code paths}, {@code layers_keys}, {@code obs_keys}, {@code obsm_keys}. */
  public static final int MAX_LIST_LENGTH = 10_000;
  /** Entries of {@code var_names}: a foundation model's whole gene vocabulary fits. */
  public static final int MAX_VAR_NAMES = 200_000;
  /** Values of {@code obs_filter}, over all its keys. */
  public static final int MAX_FILTER_VALUES = 100_000;
  /** {@code rows_per_batch}; a batch must also fit {@code MAX_BATCH_BYTES} of the server. */
  public static final int MAX_ROWS_PER_BATCH = 1 << 20;
  /** {@code bytes_per_batch}; the server fills less when its own bound per batch is lower. */
  public static final long MAX_BYTES_PER_BATCH = 1L << 30;
  /** Endpoints one FlightInfo may list ({@code rows_per_endpoint} too small for n_obs). */
  public static final int MAX_ENDPOINTS = 100_000;
  /** Characters of one string in a request (a path, a key, a filter value). */
  public static final int MAX_STRING_LENGTH = 4096;

  /**
   * Usable rows of the one order still held in memory, a weighted sampler without replacement
   * (about 24 bytes per row while it is built, 4 per drawn row kept).
   */
  public static final int MAX_MATERIALISED_ROWS = 50_000_000;
  /** {@code sampler.num_samples}: positions of an epoch are 64-bit; this keeps 3p in range. */
  public static final long MAX_NUM_SAMPLES = 1L << 60;
  /** {@code sampler.block_size}. */
  public static final int MAX_BLOCK_SIZE = 1 << 20;
  /** {@code sampler.pool_blocks}. */
  public static final int MAX_POOL_BLOCKS = 1 << 16;

  private RequestLimits() {}

  /** Refuses {@code count} entries of {@code key} beyond {@code max}. */
  static void checkCount(String key, long count, long max, String unit) {
    if (count > max) {
      throw new RequestException("\"" + key + "\" has " + count + " " + unit + "; at most "
          + max + " are allowed");
    }
  }

  /** Refuses a body of more than {@code max} bytes before it is parsed. */
  public static void checkBytes(String what, int length, int max) {
    if (length > max) {
      throw new RequestException(what + " is " + length + " bytes; at most " + max
          + " are allowed");
    }
  }
}
