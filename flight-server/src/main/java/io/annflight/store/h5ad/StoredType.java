package io.annflight.store.h5ad;

import io.annflight.schema.ElementType;
import io.jhdf.object.datatype.DataType;
import io.jhdf.object.datatype.EnumDataType;
import io.jhdf.object.datatype.FixedPoint;
import io.jhdf.object.datatype.FloatingPoint;
import java.nio.ByteOrder;
import java.util.Set;

/** A numeric HDF5 datatype as annflight sees it: the element type and its byte order on disk. */
record StoredType(ElementType type, ByteOrder order) {

  private static final Set<String> BOOL_NAMES = Set.of("FALSE", "TRUE");

  /** Maps an HDF5 datatype; null when it is not numeric (strings, references, compounds...). */
  static StoredType of(DataType dt) {
    if (dt instanceof FixedPoint fp) {
      ElementType t =
          switch (fp.getSize()) {
            case 1 -> fp.isSigned() ? ElementType.INT8 : ElementType.UINT8;
            case 2 -> fp.isSigned() ? ElementType.INT16 : ElementType.UINT16;
            case 4 -> fp.isSigned() ? ElementType.INT32 : ElementType.UINT32;
            case 8 -> fp.isSigned() ? ElementType.INT64 : ElementType.UINT64;
            default -> null;
          };
      return t == null ? null : new StoredType(t, fp.getByteOrder());
    }
    if (dt instanceof FloatingPoint fl) {
      ElementType t =
          switch (fl.getSize()) {
            case 4 -> ElementType.FLOAT32;
            case 8 -> ElementType.FLOAT64;
            default -> null;
          };
      return t == null ? null : new StoredType(t, fl.getByteOrder());
    }
    // h5py stores numpy bools as a 1-byte enum {FALSE: 0, TRUE: 1}.
    if (dt instanceof EnumDataType en
        && en.getSize() == 1
        && BOOL_NAMES.containsAll(en.getEnumMapping().values())) {
      return new StoredType(ElementType.BOOL, ByteOrder.LITTLE_ENDIAN);
    }
    return null;
  }

  static String describe(DataType dt) {
    return dt.getClass().getSimpleName() + " of " + dt.getSize() + " bytes";
  }
}
