package io.annflight.store;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.annflight.testing.Fixtures;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.FileTime;
import java.util.Comparator;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A store's opening (its generation) tells what happened to the bytes it was opened on, judged
 * by file identity and never by name, and takes its cached chunks with it when it closes.
 */
class StoreGenerationTest {

  @TempDir
  Path dir;

  @Test
  void aFileReplacedByRenameLeavesTheOpenedOneUnchanged() throws Exception {
    Path p = copy(Fixtures.store("dense.h5ad"), dir.resolve("a.h5ad"));
    StoreGeneration g = StoreGeneration.ofLocal(p);
    FileStamp opened = FileStamp.of(p);
    Path other = copy(Fixtures.store("csr.h5ad"), dir.resolve("b.h5ad"));
    Files.move(other, p, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
    g.checkUnchanged(); // the opened file (held open by its readers) still has its bytes
    assertThat(FileStamp.of(p).fileKey()).isNotEqualTo(opened.fileKey()); // new opens see it
  }

  @Test
  void aFileRewrittenInPlaceWithTheSameSizeIsAChange() throws Exception {
    Path p = copy(Fixtures.store("dense.h5ad"), dir.resolve("a.h5ad"));
    StoreGeneration g = StoreGeneration.ofLocal(p);
    byte[] bytes = Files.readAllBytes(p);
    FileTime before = Files.getLastModifiedTime(p);
    Files.write(p, bytes); // same inode, same size, same bytes even
    Files.setLastModifiedTime(p, FileTime.fromMillis(before.toMillis() + 2_000));
    assertThatThrownBy(g::checkUnchanged).isInstanceOf(StoreChangedException.class)
        .hasMessageContaining(p.toString()).hasMessageContaining("rewritten in place");
  }

  @Test
  void aTruncatedFileIsAChangeThatSaysSo() throws Exception {
    Path p = copy(Fixtures.store("dense.h5ad"), dir.resolve("a.h5ad"));
    StoreGeneration g = StoreGeneration.ofLocal(p);
    try (var ch = Files.newByteChannel(p, java.nio.file.StandardOpenOption.WRITE)) {
      ch.truncate(100);
    }
    assertThatThrownBy(g::checkUnchanged).isInstanceOf(StoreChangedException.class)
        .hasMessageContaining("truncated").hasMessageContaining("now 100 bytes");
  }

  @Test
  void aZarrStoreWhoseRootMetadataIsRewrittenChangedThoughItsDirectoryDidNot() throws Exception {
    Path store = dir.resolve("s.zarr");
    copyTree(Fixtures.store("dense.zarr"), store);
    StoreGeneration g = StoreGeneration.ofLocal(store);
    FileTime dirTime = Files.getLastModifiedTime(store);
    Path zattrs = store.resolve(".zattrs");
    Files.write(zattrs, Files.readAllBytes(zattrs));
    Files.setLastModifiedTime(zattrs, FileTime.fromMillis(dirTime.toMillis() + 2_000));
    assertThat(Files.getLastModifiedTime(store)).isEqualTo(dirTime);
    assertThatThrownBy(g::checkUnchanged).hasMessageContaining("rewritten in place");
  }

  @Test
  void everyOpeningIsAGenerationOfItsOwn() {
    Path p = Fixtures.store("dense.h5ad");
    try (AnnDataStore a = AnnDataStores.open(p); AnnDataStore b = AnnDataStores.open(p)) {
      assertThat(a.generation().id()).isNotEqualTo(b.generation().id());
      a.generation().checkUnchanged();
    }
  }

  @Test
  void aClosedStoreTakesItsChunksOutOfTheSharedCacheAndLeavesTheOthers() throws Exception {
    StoreResources own = new StoreResources();
    Path a = copy(Fixtures.store("dense.h5ad"), dir.resolve("a.h5ad"));
    Path b = copy(Fixtures.store("dense.h5ad"), dir.resolve("b.h5ad"));
    try (AnnDataStore first = AnnDataStores.open(a, own)) {
      readAll(first);
      long one = own.hdf5Chunks().usedBytes();
      assertThat(one).isPositive();
      try (AnnDataStore second = AnnDataStores.open(b, own)) {
        readAll(second);
        assertThat(own.hdf5Chunks().usedBytes()).isEqualTo(2 * one);
        first.close();
        assertThat(own.hdf5Chunks().usedBytes()).isEqualTo(one);
      }
      assertThat(own.hdf5Chunks().usedBytes()).isZero();
    } finally {
      own.close();
    }
  }

  private static void readAll(AnnDataStore store) {
    MatrixReader x = store.matrix("X").orElseThrow();
    assertThat(x.readRows(0, x.nRows()).nRows()).isEqualTo((int) x.nRows());
  }

  private static Path copy(Path from, Path to) throws Exception {
    return Files.copy(from, to, StandardCopyOption.REPLACE_EXISTING);
  }

  private static void copyTree(Path from, Path to) throws Exception {
    try (Stream<Path> all = Files.walk(from)) {
      for (Path src : all.sorted(Comparator.naturalOrder()).toList()) {
        Path dst = to.resolve(from.relativize(src).toString());
        if (Files.isDirectory(src)) {
          Files.createDirectories(dst);
        } else {
          Files.copy(src, dst);
        }
      }
    }
  }
}
