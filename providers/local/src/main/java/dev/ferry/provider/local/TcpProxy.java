package dev.ferry.provider.local;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.time.Duration;
import java.util.HashSet;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A TCP proxy port: accepts on one address and port and splices each connection to the target its
 * {@link Router} names, trying up to three targets when a connect fails. One virtual thread per
 * direction; established connections live on when the routing changes. A client the router does not
 * admit is reset at once.
 */
public final class TcpProxy implements L4Proxy {

  private static final Logger log = LoggerFactory.getLogger(TcpProxy.class);
  private static final int ATTEMPTS = 3;
  private static final int BUFFER = 32 * 1024;

  private final InetSocketAddress bound;
  private final Router router;
  private final int connectTimeoutMs;
  private final ServerSocket server;
  private final Set<Socket> open = ConcurrentHashMap.newKeySet();
  private final Thread acceptor;
  private volatile boolean closed;

  private TcpProxy(InetSocketAddress bind, Router router, Duration connectTimeout)
      throws IOException {
    this.bound = bind;
    this.router = router;
    this.connectTimeoutMs = (int) connectTimeout.toMillis();
    this.server = new ServerSocket();
    server.setReuseAddress(true);
    server.bind(bind, 1024);
    acceptor = Thread.ofVirtual().name("tcp-proxy-" + bind).start(this::acceptLoop);
  }

  /** Binds {@code bind} and starts accepting. */
  public static TcpProxy open(InetSocketAddress bind, Router router, Duration connectTimeout)
      throws IOException {
    return new TcpProxy(bind, router, connectTimeout);
  }

  private void acceptLoop() {
    while (!closed) {
      try {
        Socket client = server.accept();
        Thread.ofVirtual().start(() -> serve(client));
      } catch (IOException e) {
        if (!closed) {
          log.warn("accept on {} failed: {}", bound, e.getMessage());
        }
      }
    }
  }

  private void serve(Socket client) {
    InetAddress from = client.getInetAddress();
    Socket upstream = router.admits(from) ? connect(from) : null;
    if (upstream == null) {
      reset(client);
      return;
    }
    open.add(client);
    open.add(upstream);
    try {
      client.setTcpNoDelay(true);
      upstream.setTcpNoDelay(true);
      Thread other = Thread.ofVirtual().start(() -> pump(client, upstream));
      pump(upstream, client);
      other.join();
    } catch (IOException | InterruptedException e) {
      // the connection ends either way
    } finally {
      closeQuietly(client);
      closeQuietly(upstream);
      open.remove(client);
      open.remove(upstream);
    }
  }

  private Socket connect(InetAddress from) {
    Set<InetSocketAddress> tried = new HashSet<>();
    for (int i = 0; i < ATTEMPTS; i++) {
      Optional<InetSocketAddress> target = router.route(from, tried);
      if (target.isEmpty()) {
        return null;
      }
      tried.add(target.get());
      Socket s = new Socket();
      try {
        s.connect(target.get(), connectTimeoutMs);
        return s;
      } catch (IOException e) {
        closeQuietly(s);
      }
    }
    return null;
  }

  /** Copies {@code from} into {@code to} until end of stream, then half-closes {@code to}. */
  private static void pump(Socket from, Socket to) {
    byte[] buffer = new byte[BUFFER];
    try {
      InputStream in = from.getInputStream();
      OutputStream out = to.getOutputStream();
      int n;
      while ((n = in.read(buffer)) >= 0) {
        out.write(buffer, 0, n);
      }
      to.shutdownOutput();
    } catch (IOException e) {
      closeQuietly(from);
      closeQuietly(to);
    }
  }

  private static void reset(Socket s) {
    try {
      s.setSoLinger(true, 0);
    } catch (IOException e) {
      // closing is what matters
    }
    closeQuietly(s);
  }

  private static void closeQuietly(Socket s) {
    try {
      s.close();
    } catch (IOException e) {
      // nothing left to do
    }
  }

  /** Stops accepting and ends every connection through this port. */
  @Override
  public void close() {
    closed = true;
    try {
      server.close();
    } catch (IOException e) {
      // already closed
    }
    open.forEach(TcpProxy::closeQuietly);
    // the socket is released only when the accepting thread has left accept(): wait for it, so
    // the port is free again when close returns
    Threads.joinQuietly(acceptor);
  }
}
