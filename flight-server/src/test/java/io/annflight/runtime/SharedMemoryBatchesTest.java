package io.annflight.runtime;

import static org.assertj.core.api.Assertions.assertThat;

import io.annflight.runtime.shm.TestRings;
import java.io.ByteArrayInputStream;
import java.lang.reflect.Proxy;
import java.nio.channels.Channels;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.apache.arrow.flight.FlightProducer.ServerStreamListener;
import org.apache.arrow.memory.ArrowBuf;
import org.apache.arrow.memory.BufferAllocator;
import org.apache.arrow.memory.RootAllocator;
import org.apache.arrow.vector.IntVector;
import org.apache.arrow.vector.VarCharVector;
import org.apache.arrow.vector.VectorLoader;
import org.apache.arrow.vector.VectorSchemaRoot;
import org.apache.arrow.vector.ipc.ReadChannel;
import org.apache.arrow.vector.ipc.message.ArrowRecordBatch;
import org.apache.arrow.vector.ipc.message.MessageSerializer;
import org.apache.arrow.vector.types.pojo.ArrowType;
import org.apache.arrow.vector.types.pojo.DictionaryEncoding;
import org.apache.arrow.vector.types.pojo.Field;
import org.apache.arrow.vector.types.pojo.FieldType;
import org.apache.arrow.vector.types.pojo.Schema;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The slot protocol from the server's side: each batch is written into the ring's slots in
 * turn, as an IPC message whose record batch equals the batch sent (read back by a thread
 * playing the client, which frees each slot once it has read it), announced by a zero-row
 * batch with its slot, length and rows; a batch too large for a slot goes over gRPC in order
 * with the others. Every allocator closes with nothing left.
 */
class SharedMemoryBatchesTest {
  private static final long SLOT = TestRings.MIB;
  private static final Pattern MARKER = Pattern.compile(
      "annflight-shm:\\{\"slot\":(\\d+),\"length\":(\\d+),\"rows\":(\\d+)\\}");
  private static final Schema SCHEMA = new Schema(List.of(
      Field.nullable("x", new ArrowType.Int(32, true)),
      Field.nullable("s", ArrowType.Utf8.INSTANCE),
      // A dictionary-encoded label: its indices travel in the slot like any int column.
      new Field("label", new FieldType(true, new ArrowType.Int(32, true),
          new DictionaryEncoding(1, false, new ArrowType.Int(32, true))), null)));

  @TempDir
  Path dir;

  /** What the client was sent: a marker (slot, length, rows) or a gRPC batch's x values. */
  private record Sent(int slot, int length, int rows, List<Integer> grpcValues) {}

  private static ServerStreamListener listener(BlockingQueue<Sent> sent,
      AtomicReference<VectorSchemaRoot> wire) {
    return (ServerStreamListener) Proxy.newProxyInstance(
        SharedMemoryBatchesTest.class.getClassLoader(),
        new Class<?>[] {ServerStreamListener.class}, (proxy, method, args) -> {
          if (method.getName().equals("putNext") && args != null && args.length == 1) {
            try (ArrowBuf meta = (ArrowBuf) args[0]) {
              byte[] b = new byte[(int) meta.writerIndex()];
              meta.getBytes(0, b);
              Matcher m = MARKER.matcher(new String(b, StandardCharsets.UTF_8));
              assertThat(m.matches()).isTrue();
              assertThat(wire.get().getRowCount()).isZero();
              sent.add(new Sent(Integer.parseInt(m.group(1)), Integer.parseInt(m.group(2)),
                  Integer.parseInt(m.group(3)), null));
            }
            return null;
          }
          if (method.getName().equals("putNext")) {
            IntVector x = (IntVector) wire.get().getVector("x");
            List<Integer> values = new ArrayList<>();
            for (int i = 0; i < wire.get().getRowCount(); i++) {
              values.add(x.get(i));
            }
            sent.add(new Sent(-1, 0, values.size(), values));
            return null;
          }
          return method.getReturnType() == boolean.class ? false : null;
        });
  }

  /** Batch k: its rows' x are k * 1000 + i, s is "k:i", label i % 3. */
  private static void fill(VectorSchemaRoot root, int k, int rows) {
    root.allocateNew();
    IntVector x = (IntVector) root.getVector("x");
    VarCharVector s = (VarCharVector) root.getVector("s");
    IntVector label = (IntVector) root.getVector("label");
    for (int i = 0; i < rows; i++) {
      x.setSafe(i, k * 1000 + i);
      s.setSafe(i, (k + ":" + i).getBytes(StandardCharsets.UTF_8));
      label.setSafe(i, i % 3);
    }
    root.setRowCount(rows);
  }

  @Test
  void batchesGoThroughTheSlotsInTurnAndReadBackEqual() throws Exception {
    Path ring = TestRings.create(dir, 2, SLOT);
    int[] rows = {5, 17, 1, 300_000, 40, 9};  // the fourth does not fit a 1 MiB slot
    BlockingQueue<Sent> sent = new LinkedBlockingQueue<>();
    AtomicReference<VectorSchemaRoot> wire = new AtomicReference<>();
    List<Sent> seen = new ArrayList<>();
    List<String> mismatches = new ArrayList<>();
    try (BufferAllocator allocator = new RootAllocator();
        VectorSchemaRoot outbound = VectorSchemaRoot.create(SCHEMA, allocator)) {
      Thread client = new Thread(() -> {
        try (BufferAllocator mine = new RootAllocator();
            VectorSchemaRoot read = VectorSchemaRoot.create(SCHEMA, mine)) {
          for (int k = 0; k < rows.length; k++) {
            Sent s = sent.poll(1, TimeUnit.MINUTES);
            seen.add(s);
            if (s == null || s.grpcValues() != null) {
              continue;
            }
            assertThat(TestRings.state(ring, s.slot())).isEqualTo(1);
            byte[] message = TestRings.slotBytes(ring, SLOT, s.slot(), s.length());
            try (ArrowRecordBatch batch = MessageSerializer.deserializeRecordBatch(
                new ReadChannel(Channels.newChannel(new ByteArrayInputStream(message))), mine)) {
              new VectorLoader(read).load(batch);
            }
            String problem = check(read, k, rows[k]);
            if (problem != null) {
              mismatches.add(problem);
            }
            read.clear();
            TestRings.free(ring, s.slot());
          }
        } catch (Exception | AssertionError e) {
          mismatches.add(e.toString());
        }
      });
      client.start();
      try (SharedMemoryBatches shm = SharedMemoryBatches.open(TestRings.open(ring), SCHEMA,
          allocator)) {
        wire.set(shm.wire());
        ServerStreamListener l = listener(sent, wire);
        for (int k = 0; k < rows.length; k++) {
          fill(outbound, k, rows[k]);
          assertThat(shm.send(outbound, l, () -> false)).isTrue();
          assertThat(outbound.getRowCount()).isZero();
        }
        assertThat(shm.sentOverGrpc()).isEqualTo(1);
      }
      client.join(TimeUnit.MINUTES.toMillis(2));
      assertThat(client.isAlive()).isFalse();
    }
    assertThat(mismatches).isEmpty();
    // Slots in turn, the gRPC batch between them taking none; lengths as the client read them.
    assertThat(seen).extracting(Sent::slot).containsExactly(0, 1, 0, -1, 1, 0);
    assertThat(seen).extracting(Sent::rows).containsExactly(5, 17, 1, 300_000, 40, 9);
    List<Integer> expected = new ArrayList<>();
    for (int i = 0; i < 300_000; i++) {
      expected.add(3000 + i);
    }
    assertThat(seen.get(3).grpcValues()).isEqualTo(expected);
  }

  private static String check(VectorSchemaRoot read, int k, int rows) {
    if (read.getRowCount() != rows) {
      return "batch " + k + ": " + read.getRowCount() + " rows, not " + rows;
    }
    IntVector x = (IntVector) read.getVector("x");
    VarCharVector s = (VarCharVector) read.getVector("s");
    IntVector label = (IntVector) read.getVector("label");
    for (int i = 0; i < rows; i++) {
      if (x.get(i) != k * 1000 + i || !new String(s.get(i), StandardCharsets.UTF_8)
          .equals(k + ":" + i) || label.get(i) != i % 3) {
        return "batch " + k + " row " + i + " differs";
      }
    }
    return null;
  }

  @Test
  void aStreamThatStopsWhileWaitingForASlotSendsNothingMore() throws Exception {
    Path ring = TestRings.create(dir, 1, SLOT);
    BlockingQueue<Sent> sent = new LinkedBlockingQueue<>();
    AtomicReference<VectorSchemaRoot> wire = new AtomicReference<>();
    try (BufferAllocator allocator = new RootAllocator();
        VectorSchemaRoot outbound = VectorSchemaRoot.create(SCHEMA, allocator);
        SharedMemoryBatches shm = SharedMemoryBatches.open(TestRings.open(ring), SCHEMA,
            allocator)) {
      wire.set(shm.wire());
      ServerStreamListener l = listener(sent, wire);
      fill(outbound, 0, 10);
      assertThat(shm.send(outbound, l, () -> false)).isTrue();
      // The client holds the only slot and goes away: the next send ends, sending nothing.
      fill(outbound, 1, 10);
      assertThat(shm.send(outbound, l, () -> true)).isFalse();
      assertThat(sent).hasSize(1);
      assertThat(TestRings.state(ring, 0)).isEqualTo(1);
    }
  }
}
