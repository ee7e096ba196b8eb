package io.annflight.store.h5ad;

import io.jhdf.filter.PipelineFilterWithData;
import java.util.List;
import java.util.zip.DataFormatException;
import java.util.zip.Inflater;

/**
 * Undoes the filters h5py writes on a chunk: deflate (gzip), shuffle, fletcher32 and LZF. jhdf
 * reads the parameters of shuffle and LZF from the filter's client data, which h5py leaves empty
 * for variable-length strings, and then fails; here the element size and the chunk's size come
 * from the dataset instead. Output is bounded by the chunk's size: a chunk that inflates past it
 * is damaged (or a compression bomb) and refused.
 */
final class H5ChunkFilters {
  static final int DEFLATE = 1;
  static final int SHUFFLE = 2;
  static final int FLETCHER32 = 3;
  static final int LZF = 32000;

  private H5ChunkFilters() {}

  /** Whether every filter is one decoded here. */
  static boolean handles(List<PipelineFilterWithData> filters) {
    for (PipelineFilterWithData f : filters) {
      int id = f.getId();
      if (id != DEFLATE && id != SHUFFLE && id != FLETCHER32 && id != LZF) {
        return false;
      }
    }
    return true;
  }

  /**
   * Decodes a stored chunk.
   *
   * @param chunkBytes the decoded chunk's size
   */
  static byte[] decode(byte[] stored, List<PipelineFilterWithData> filters, int chunkBytes)
      throws DataFormatException {
    byte[] data = stored;
    for (int i = filters.size() - 1; i >= 0; i--) {
      data = switch (filters.get(i).getId()) {
        case DEFLATE -> inflate(data, chunkBytes);
        // Without client data HDF5 itself does not shuffle (h5py writes vlen strings so).
        case SHUFFLE -> filters.get(i).getFilterData().length == 0 ? data
            : unshuffle(data, filters.get(i).getFilterData()[0]);
        case FLETCHER32 -> java.util.Arrays.copyOf(data, Math.max(0, data.length - 4));
        case LZF -> unlzf(data, chunkBytes);
        default -> throw new IllegalArgumentException("filter " + filters.get(i).getName());
      };
    }
    return data;
  }

  private static byte[] inflate(byte[] in, int max) throws DataFormatException {
    Inflater inflater = new Inflater();
    try {
      inflater.setInput(in);
      byte[] out = new byte[max];
      int n = 0;
      while (!inflater.finished()) {
        if (n == out.length) {
          byte[] probe = new byte[1];
          if (inflater.inflate(probe) > 0) {
            throw new DataFormatException("deflate output exceeds the chunk's " + max + " bytes");
          }
          if (inflater.needsInput() || inflater.needsDictionary()) {
            break;
          }
          continue;
        }
        int k = inflater.inflate(out, n, out.length - n);
        if (k == 0 && (inflater.needsInput() || inflater.needsDictionary())) {
          throw new DataFormatException("deflate stream ends early (truncated)");
        }
        n += k;
      }
      return n == out.length ? out : java.util.Arrays.copyOf(out, n);
    } finally {
      inflater.end();
    }
  }

  private static byte[] unshuffle(byte[] in, int size) {
    if (size <= 1) {
      return in;
    }
    int n = in.length / size;
    byte[] out = new byte[in.length];
    for (int b = 0; b < size; b++) {
      for (int i = 0; i < n; i++) {
        out[i * size + b] = in[b * n + i];
      }
    }
    System.arraycopy(in, n * size, out, n * size, in.length - n * size);
    return out;
  }

  /**
   * liblzf's format, as h5py's LZF filter writes it. A chunk LZF could not shrink is stored
   * as it was (HDF5 skips a filter that fails): it is recognised by its size.
   */
  private static byte[] unlzf(byte[] in, int size) throws DataFormatException {
    if (in.length == size) {
      return in;
    }
    byte[] out = new byte[size];
    int ip = 0;
    int op = 0;
    while (ip < in.length) {
      int ctrl = in[ip++] & 0xFF;
      if (ctrl < 32) {
        int len = ctrl + 1;
        if (op + len > size || ip + len > in.length) {
          throw new DataFormatException("lzf literal runs past the chunk");
        }
        System.arraycopy(in, ip, out, op, len);
        ip += len;
        op += len;
      } else {
        int len = ctrl >> 5;
        int ref = op - ((ctrl & 0x1F) << 8) - 1;
        if (len == 7) {
          if (ip >= in.length) {
            throw new DataFormatException("lzf stream ends early");
          }
          len += in[ip++] & 0xFF;
        }
        if (ip >= in.length) {
          throw new DataFormatException("lzf stream ends early");
        }
        ref -= in[ip++] & 0xFF;
        len += 2;
        if (ref < 0 || op + len > size) {
          throw new DataFormatException("lzf back reference outside the chunk");
        }
        for (int k = 0; k < len; k++) {
          out[op++] = out[ref++];
        }
      }
    }
    if (op != size) {
      throw new DataFormatException("lzf decodes to " + op + " bytes, expected " + size);
    }
    return out;
  }
}
