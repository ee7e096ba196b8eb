package io.annflight.schema;

import static io.annflight.schema.ElementType.*;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.junit.jupiter.api.Test;

class ElementTypeTest {

  /** Expected values are numpy 1.24's np.result_type for the pairs. */
  @Test
  void promotionFollowsNumpy() {
    assertThat(promote(FLOAT32, FLOAT32)).isEqualTo(FLOAT32);
    assertThat(promote(INT32, FLOAT32)).isEqualTo(FLOAT64);
    assertThat(promote(INT16, FLOAT32)).isEqualTo(FLOAT32);
    assertThat(promote(UINT8, FLOAT32)).isEqualTo(FLOAT32);
    assertThat(promote(INT64, FLOAT64)).isEqualTo(FLOAT64);
    assertThat(promote(INT8, UINT8)).isEqualTo(INT16);
    assertThat(promote(UINT16, INT16)).isEqualTo(INT32);
    assertThat(promote(UINT32, INT8)).isEqualTo(INT64);
    assertThat(promote(UINT64, INT64)).isEqualTo(FLOAT64);
    assertThat(promote(UINT8, INT32)).isEqualTo(INT32);
    assertThat(promote(UINT16, UINT64)).isEqualTo(UINT64);
    assertThat(promote(BOOL, INT8)).isEqualTo(INT8);
    assertThat(promote(FLOAT32, FLOAT64)).isEqualTo(FLOAT64);
  }

  @Test
  void dtypeNamesParseWithAliasesAndRefuseTheRest() {
    assertThat(parseDtype("float32")).isEqualTo(FLOAT32);
    assertThat(parseDtype("float")).isEqualTo(FLOAT64);
    assertThat(parseDtype(" Int32 ")).isEqualTo(INT32);
    assertThatThrownBy(() -> parseDtype("complex64"))
        .isInstanceOf(RequestException.class)
        .hasMessageContaining("unsupported dtype \"complex64\"")
        .hasMessageContaining("float32");
  }
}
