package io.annflight.schema;

/**
 * The value type of an obs column on the wire: strings and string categoricals are UTF8,
 * integers INT64, floats FLOAT64, booleans BOOL (categories of a categorical keep their type).
 */
public enum LabelType {
  UTF8,
  INT64,
  FLOAT64,
  BOOL
}
