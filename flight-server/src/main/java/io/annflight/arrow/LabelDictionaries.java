package io.annflight.arrow;

import io.annflight.collection.LabelColumnPlan;
import io.annflight.schema.ArrowTypes;
import java.nio.charset.StandardCharsets;
import java.util.List;
import org.apache.arrow.memory.BufferAllocator;
import org.apache.arrow.vector.BigIntVector;
import org.apache.arrow.vector.BitVector;
import org.apache.arrow.vector.FieldVector;
import org.apache.arrow.vector.Float8Vector;
import org.apache.arrow.vector.VarCharVector;
import org.apache.arrow.vector.dictionary.Dictionary;
import org.apache.arrow.vector.dictionary.DictionaryProvider;
import org.apache.arrow.vector.types.pojo.Field;
import org.apache.arrow.vector.types.pojo.FieldType;

/** The dictionaries of a request's encoded obs keys: merged categories without the unknown. */
final class LabelDictionaries {
  private LabelDictionaries() {}

  static DictionaryProvider.MapDictionaryProvider build(List<LabelColumnPlan> labels,
      BufferAllocator allocator) {
    DictionaryProvider.MapDictionaryProvider provider =
        new DictionaryProvider.MapDictionaryProvider();
    try {
      for (LabelColumnPlan l : labels) {
        if (l.encoded()) {
          FieldVector values = vectorOf(l, allocator);
          provider.put(new Dictionary(values, l.column().field().getDictionary()));
        }
      }
      return provider;
    } catch (RuntimeException e) {
      close(provider);
      throw e;
    }
  }

  static void close(DictionaryProvider.MapDictionaryProvider provider) {
    for (long id : provider.getDictionaryIds()) {
      provider.lookup(id).getVector().close();
    }
  }

  private static FieldVector vectorOf(LabelColumnPlan l, BufferAllocator allocator) {
    List<Object> values = l.encoding().dictionary();
    int n = values.size();
    Field field = new Field(l.column().name(),
        FieldType.notNullable(ArrowTypes.of(l.column().valueType())), null);
    FieldVector v = field.createVector(allocator);
    try {
      if (v instanceof VarCharVector vc) {
        vc.allocateNew(n);
        for (int i = 0; i < n; i++) {
          vc.setSafe(i, ((String) values.get(i)).getBytes(StandardCharsets.UTF_8));
        }
      } else if (v instanceof BigIntVector b) {
        b.allocateNew(n);
        for (int i = 0; i < n; i++) {
          b.set(i, (Long) values.get(i));
        }
      } else if (v instanceof Float8Vector f) {
        f.allocateNew(n);
        for (int i = 0; i < n; i++) {
          f.set(i, (Double) values.get(i));
        }
      } else {
        BitVector b = (BitVector) v;
        b.allocateNew(n);
        for (int i = 0; i < n; i++) {
          b.set(i, (Boolean) values.get(i) ? 1 : 0);
        }
      }
      v.setValueCount(n);
      return v;
    } catch (RuntimeException e) {
      v.close();
      throw e;
    }
  }
}
