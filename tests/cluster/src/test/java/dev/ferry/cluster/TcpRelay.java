package dev.ferry.cluster;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;

/**
 * A loopback TCP relay in front of the API server that a test can cut: {@link #cut} closes every
 * connection and refuses new ones until {@link #restore}, as a network partition would.
 */
final class TcpRelay implements AutoCloseable {

  private final InetSocketAddress target;
  private final int port;
  private final List<Socket> open = new CopyOnWriteArrayList<>();
  private volatile ServerSocket server;

  TcpRelay(String host, int targetPort) throws IOException {
    this.target = new InetSocketAddress(host, targetPort);
    ServerSocket s = new ServerSocket(0, 50, InetAddress.getLoopbackAddress());
    this.port = s.getLocalPort();
    listen(s);
  }

  int port() {
    return port;
  }

  private void listen(ServerSocket s) {
    server = s;
    Thread.ofVirtual()
        .start(
            () -> {
              while (!s.isClosed()) {
                try {
                  Socket client = s.accept();
                  Socket upstream = new Socket(target.getAddress(), target.getPort());
                  open.add(client);
                  open.add(upstream);
                  pipe(client, upstream);
                  pipe(upstream, client);
                } catch (IOException e) {
                  // closed by cut() or close()
                }
              }
            });
  }

  private void pipe(Socket from, Socket to) {
    Thread.ofVirtual()
        .start(
            () -> {
              try (InputStream in = from.getInputStream();
                  OutputStream out = to.getOutputStream()) {
                in.transferTo(out);
              } catch (IOException e) {
                // one side went away
              } finally {
                close(from);
                close(to);
              }
            });
  }

  /** Drops every connection and refuses new ones. */
  synchronized void cut() {
    close(server);
    open.forEach(TcpRelay::close);
    open.clear();
  }

  /** Accepts connections again, on the same port. */
  synchronized void restore() throws IOException {
    ServerSocket s = new ServerSocket();
    s.setReuseAddress(true);
    s.bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), port));
    listen(s);
  }

  private static void close(AutoCloseable c) {
    try {
      if (c != null) {
        c.close();
      }
    } catch (Exception e) {
      // already closed
    }
  }

  @Override
  public void close() {
    cut();
  }
}
