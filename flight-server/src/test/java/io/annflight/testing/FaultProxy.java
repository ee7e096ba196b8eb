package io.annflight.testing;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * A TCP relay between the server and S3Proxy that can delay requests and answer them with
 * throttling (503 SlowDown) or 500 instead of forwarding them. Requests are forwarded byte for
 * byte, so SigV4 signatures (which cover the Host header) stay valid; each request gets a
 * connection of its own upstream ({@code Connection: close}). It logs every request line with
 * its Range header, so tests count what the server fetched. Only bodiless requests (GET,
 * HEAD), which is all the server sends.
 */
public final class FaultProxy implements AutoCloseable {
  private final ServerSocket listener;
  private final int upstreamPort;
  private final ExecutorService pool = Executors.newCachedThreadPool(r -> {
    Thread t = new Thread(r, "fault-proxy");
    t.setDaemon(true);
    return t;
  });
  private final List<String> log = new CopyOnWriteArrayList<>();
  private final AtomicInteger throttleNext = new AtomicInteger();
  private final AtomicInteger failNext = new AtomicInteger();
  private volatile long latencyMillis;
  private volatile boolean failAll;
  /** While set, requests wait for it (each at most 30 s) before they are forwarded. */
  private volatile java.util.concurrent.CountDownLatch hold;
  private final AtomicInteger held = new AtomicInteger();

  public FaultProxy(int upstreamPort) throws IOException {
    this.upstreamPort = upstreamPort;
    this.listener = new ServerSocket(0, 50, InetAddress.getLoopbackAddress());
    pool.execute(this::accept);
  }

  public URI endpoint() {
    return URI.create("http://127.0.0.1:" + listener.getLocalPort());
  }

  /** Answers the next {@code n} requests with 503 SlowDown. */
  public void throttleNext(int n) {
    throttleNext.set(n);
  }

  /** Answers the next {@code n} requests with 500 InternalError. */
  public void failNext(int n) {
    failNext.set(n);
  }

  /** Answers every request with 500 until told otherwise. */
  public void failAll(boolean fail) {
    failAll = fail;
  }

  public void latency(long millis) {
    latencyMillis = millis;
  }

  /**
   * Holds every ranged GET (a read of an object's bytes; not HEADs or listings) from now on
   * until {@link #release()}: a test makes a stream wait on the bucket at a known point, and
   * changes the bucket meanwhile.
   */
  public void holdReads() {
    hold = new java.util.concurrent.CountDownLatch(1);
  }

  /** Reads waiting in {@link #holdReads()} now. */
  public int held() {
    return held.get();
  }

  /** Lets the held requests, and the next ones, through. */
  public void release() {
    java.util.concurrent.CountDownLatch h = hold;
    hold = null;
    if (h != null) {
      h.countDown();
    }
  }

  /** Request lines seen, each as {@code METHOD path [range]}. */
  public List<String> requests() {
    return List.copyOf(log);
  }

  public void clearLog() {
    log.clear();
  }

  private void accept() {
    while (!listener.isClosed()) {
      try {
        Socket client = listener.accept();
        pool.execute(() -> serve(client));
      } catch (IOException e) {
        return; // closed
      }
    }
  }

  private void serve(Socket client) {
    try (client) {
      client.setSoTimeout(30_000);
      InputStream in = client.getInputStream();
      OutputStream out = client.getOutputStream();
      String head = readHead(in);
      if (head == null) {
        return;
      }
      String[] lines = head.split("\r\n");
      String range = "";
      StringBuilder forwarded = new StringBuilder(lines[0]).append("\r\n");
      for (int i = 1; i < lines.length; i++) {
        String lower = lines[i].toLowerCase(java.util.Locale.ROOT);
        if (lower.startsWith("range:")) {
          range = " " + lines[i].substring(6).trim();
        }
        if (!lower.startsWith("connection:")) {
          forwarded.append(lines[i]).append("\r\n");
        }
      }
      forwarded.append("Connection: close\r\n\r\n");
      String[] requestLine = lines[0].split(" ");
      log.add(requestLine[0] + " " + requestLine[1] + range);
      if (latencyMillis > 0) {
        Thread.sleep(latencyMillis);
      }
      java.util.concurrent.CountDownLatch h = hold;
      if (h != null && requestLine[0].equals("GET") && !range.isEmpty()) {
        held.incrementAndGet();
        try {
          h.await(30, java.util.concurrent.TimeUnit.SECONDS);
        } finally {
          held.decrementAndGet();
        }
      }
      if (failAll || failNext.getAndUpdate(n -> Math.max(0, n - 1)) > 0) {
        answer(out, 500, "InternalError", requestLine[0]);
        return;
      }
      if (throttleNext.getAndUpdate(n -> Math.max(0, n - 1)) > 0) {
        answer(out, 503, "SlowDown", requestLine[0]);
        return;
      }
      try (Socket upstream = new Socket(InetAddress.getLoopbackAddress(), upstreamPort)) {
        upstream.setSoTimeout(30_000);
        upstream.getOutputStream().write(forwarded.toString().getBytes(StandardCharsets.ISO_8859_1));
        upstream.getOutputStream().flush();
        upstream.getInputStream().transferTo(out);
        out.flush();
      }
    } catch (IOException e) {
      // the client or upstream went away: nothing to answer
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }

  private static void answer(OutputStream out, int status, String code, String method)
      throws IOException {
    byte[] body = ("<?xml version=\"1.0\" encoding=\"UTF-8\"?><Error><Code>" + code
        + "</Code><Message>injected by the test</Message></Error>")
        .getBytes(StandardCharsets.UTF_8);
    boolean head = method.equals("HEAD");
    String reply = "HTTP/1.1 " + status + " " + code + "\r\nContent-Type: application/xml\r\n"
        + "Content-Length: " + body.length + "\r\nConnection: close\r\n\r\n";
    out.write(reply.getBytes(StandardCharsets.ISO_8859_1));
    if (!head) {
      out.write(body);
    }
    out.flush();
  }

  /** The request head up to the blank line, or null when the connection closed first. */
  private static String readHead(InputStream in) throws IOException {
    ByteArrayOutputStream buf = new ByteArrayOutputStream();
    int matched = 0;
    byte[] end = {'\r', '\n', '\r', '\n'};
    while (matched < 4) {
      int b = in.read();
      if (b < 0) {
        return null;
      }
      buf.write(b);
      matched = b == end[matched] ? matched + 1 : (b == '\r' ? 1 : 0);
      if (buf.size() > 64 << 10) {
        throw new IOException("request head too long");
      }
    }
    String s = buf.toString(StandardCharsets.ISO_8859_1);
    return s.substring(0, s.length() - 4);
  }

  @Override
  public void close() throws IOException {
    release();
    listener.close();
    pool.shutdownNow();
    try {
      pool.awaitTermination(10, TimeUnit.SECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }
}
