package dev.ferry.provider.local;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.DatagramPacket;
import java.net.DatagramSocket;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.util.List;

/**
 * A stand-in node for traffic tests: on its own loopback address it answers TCP on a NodePort with
 * its name and then echoes, answers UDP datagrams with its name, and optionally serves {@code
 * /healthz} with a status the test sets.
 */
final class FakeNode implements AutoCloseable {

  final String name;
  final String address;
  private final List<AutoCloseable> open = new java.util.concurrent.CopyOnWriteArrayList<>();
  private final List<Thread> servers = new java.util.concurrent.CopyOnWriteArrayList<>();
  private volatile int healthStatus = 200;

  FakeNode(String name, String address) {
    this.name = name;
    this.address = address;
  }

  FakeNode tcp(int port) throws IOException {
    ServerSocket server = listen(port);
    serve(
        () -> {
          while (!server.isClosed()) {
            try {
              Socket s = server.accept();
              open.add(s);
              Thread.ofVirtual().start(() -> echo(s));
            } catch (IOException e) {
              return;
            }
          }
        });
    return this;
  }

  private ServerSocket listen(int port) throws IOException {
    ServerSocket server = new ServerSocket();
    server.setReuseAddress(true);
    server.bind(new InetSocketAddress(address, port));
    open.add(server);
    return server;
  }

  private void serve(Runnable loop) {
    servers.add(Thread.ofVirtual().start(loop));
  }

  private void echo(Socket s) {
    try (s) {
      OutputStream out = s.getOutputStream();
      out.write((name + "\n").getBytes(StandardCharsets.UTF_8));
      out.flush();
      InputStream in = s.getInputStream();
      byte[] buf = new byte[8192];
      int n;
      while ((n = in.read(buf)) >= 0) {
        out.write(buf, 0, n);
        out.flush();
      }
    } catch (IOException e) {
      // client went away
    }
  }

  FakeNode udp(int port) throws IOException {
    DatagramSocket socket = new DatagramSocket(new InetSocketAddress(address, port));
    open.add(socket);
    serve(
        () -> {
          byte[] buf = new byte[2048];
          while (!socket.isClosed()) {
            try {
              DatagramPacket p = new DatagramPacket(buf, buf.length);
              socket.receive(p);
              byte[] reply =
                  (name + ":" + new String(p.getData(), 0, p.getLength(), StandardCharsets.UTF_8))
                      .getBytes(StandardCharsets.UTF_8);
              socket.send(new DatagramPacket(reply, reply.length, p.getSocketAddress()));
            } catch (IOException e) {
              return;
            }
          }
        });
    return this;
  }

  FakeNode healthz(int port) throws IOException {
    ServerSocket server = listen(port);
    serve(
        () -> {
          while (!server.isClosed()) {
            try (Socket s = server.accept()) {
              s.getInputStream().read(new byte[1024]);
              int code = healthStatus;
              s.getOutputStream()
                  .write(
                      ("HTTP/1.1 " + code + " X\r\nContent-Length: 0\r\nConnection: close\r\n\r\n")
                          .getBytes(StandardCharsets.US_ASCII));
            } catch (IOException e) {
              if (server.isClosed()) {
                return;
              }
            }
          }
        });
    return this;
  }

  void healthStatus(int code) {
    healthStatus = code;
  }

  @Override
  public void close() throws Exception {
    for (AutoCloseable c : open) {
      c.close();
    }
    open.clear();
    for (Thread t : servers) {
      t.join(5000); // a socket is released when its thread has left accept/receive
    }
  }

  /**
   * Connects from {@code clientAddress} to {@code host:port} and returns the first line, or null
   * when refused or reset.
   */
  static String firstLine(String clientAddress, String host, int port) {
    try (Socket s = new Socket()) {
      s.bind(new InetSocketAddress(clientAddress, 0));
      s.connect(new InetSocketAddress(host, port), 2000);
      s.setSoTimeout(3000);
      return readLine(s.getInputStream());
    } catch (IOException e) {
      return null;
    }
  }

  static String readLine(InputStream in) throws IOException {
    StringBuilder line = new StringBuilder();
    int c;
    while ((c = in.read()) >= 0 && c != '\n') {
      line.append((char) c);
    }
    return c < 0 && line.isEmpty() ? null : line.toString();
  }

  /**
   * Sends {@code text} by UDP from {@code clientAddress} and returns the reply, or null on timeout.
   */
  static String udpRequest(String clientAddress, String host, int port, String text) {
    try (DatagramSocket s = new DatagramSocket(new InetSocketAddress(clientAddress, 0))) {
      s.setSoTimeout(2000);
      byte[] data = text.getBytes(StandardCharsets.UTF_8);
      s.send(new DatagramPacket(data, data.length, InetAddress.getByName(host), port));
      byte[] buf = new byte[2048];
      DatagramPacket reply = new DatagramPacket(buf, buf.length);
      s.receive(reply);
      return new String(reply.getData(), 0, reply.getLength(), StandardCharsets.UTF_8);
    } catch (IOException e) {
      return null;
    }
  }
}
