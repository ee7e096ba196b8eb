package io.annflight.runtime;

/** What the runtime tells whoever watches it (the server's metrics). */
public interface StreamEvents {
  StreamEvents NONE = new StreamEvents() {
    @Override
    public void streamEnded(String collection, long rows, long bytes, double seconds) {}

    @Override
    public void budgetWaited(double seconds) {}
  };

  /** A DoGet stream ended, however, having sent these rows and Arrow bytes. */
  void streamEnded(String collection, long rows, long bytes, double seconds);

  /** A stream waited this long for the memory budget before filling a batch. */
  void budgetWaited(double seconds);
}
