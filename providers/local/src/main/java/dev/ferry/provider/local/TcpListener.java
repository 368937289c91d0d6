package dev.ferry.provider.local;

import dev.ferry.spi.Backend;
import dev.ferry.spi.Listener;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.util.HashSet;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A TCP front end: accepts on the load balancer's address and port and splices each connection to a
 * backend's NodePort. One virtual thread per direction; established connections live on when the
 * backend set changes. A client outside the source ranges is reset at once.
 */
final class TcpListener implements PortListener {

  private static final Logger log = LoggerFactory.getLogger(TcpListener.class);
  private static final int ATTEMPTS = 3;
  private static final int BUFFER = 16 * 1024;

  private final Listener spec;
  private final Balancer balancer;
  private final LocalSettings settings;
  private final ServerSocket server;
  private final Set<Socket> open = ConcurrentHashMap.newKeySet();
  private final Thread acceptor;
  private volatile boolean closed;

  TcpListener(InetAddress address, Listener spec, Balancer balancer, LocalSettings settings)
      throws IOException {
    this.spec = spec;
    this.balancer = balancer;
    this.settings = settings;
    this.server = new ServerSocket();
    server.setReuseAddress(true);
    server.bind(new InetSocketAddress(address, spec.port()), 1024);
    acceptor =
        Thread.ofVirtual()
            .name("tcp-accept-" + address.getHostAddress() + ":" + spec.port())
            .start(this::acceptLoop);
  }

  @Override
  public Listener spec() {
    return spec;
  }

  private void acceptLoop() {
    while (!closed) {
      try {
        Socket client = server.accept();
        Thread.ofVirtual().start(() -> serve(client));
      } catch (IOException e) {
        if (!closed) {
          log.warn("accept on port {} failed: {}", spec.port(), e.getMessage());
        }
      }
    }
  }

  private void serve(Socket client) {
    InetAddress from = client.getInetAddress();
    if (!balancer.admits(from)) {
      reset(client);
      return;
    }
    Socket upstream = connect(from);
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
    Set<String> tried = new HashSet<>();
    for (int i = 0; i < ATTEMPTS; i++) {
      Optional<Backend> backend = balancer.pick(from, tried);
      if (backend.isEmpty()) {
        return null;
      }
      tried.add(backend.get().nodeName());
      Socket s = new Socket();
      try {
        s.connect(
            new InetSocketAddress(backend.get().address(), spec.nodePort()),
            (int) settings.connectTimeout().toMillis());
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
    open.forEach(TcpListener::closeQuietly);
    // the socket is released only when the accepting thread has left accept(): wait for it, so
    // the port is free again when close returns
    Threads.joinQuietly(acceptor);
  }
}
