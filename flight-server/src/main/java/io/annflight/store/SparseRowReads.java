package io.annflight.store;

import io.annflight.schema.ElementType;
import java.nio.ByteBuffer;

/**
 * The stored entries of some rows of a CSR matrix, to be read straight into a caller's buffers
 * (an outgoing batch's): the row lengths first, to size the buffers, then one read per run of
 * rows that are consecutive both in the file and in the destination. Reading into the
 * destination itself saves the intermediate arrays a {@link RowBlock.Sparse} is made of, and
 * their passes (conversion, then a copy).
 */
public interface SparseRowReads {

  /** Stored entries of each row, in the order the rows were asked for. */
  int[] lengths();

  /** Stored type of the values (read as they are). */
  ElementType valueType();

  /**
   * Reads row k's column indices, as little-endian int32, to {@code indices} from entry
   * {@code at[k]} on (byte {@code 4 * at[k]}), and its values, little-endian in their stored
   * type, to {@code values} from the same entry. Every index is checked to lie within the
   * matrix's columns (a store that breaks that fails, naming the file, element and index).
   *
   * @return the rows (by position k) whose stored columns are not strictly ascending, which
   *     the caller sorts (scipy writes them sorted; other writers need not); empty when none
   */
  int[] readTo(int[] at, ByteBuffer indices, ByteBuffer values);
}
