package dev.ferry.examples.haproxy;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

/**
 * A node as HAProxy sees it: a TCP service on the NodePort that answers every line with the node's
 * name, and optionally an HTTP health endpoint answering {@code /healthz} with 200 or 503.
 */
final class FakeNode implements AutoCloseable {

  final String name;
  final String address;
  private final List<ServerSocket> sockets = new ArrayList<>();
  private volatile boolean healthy = true;

  FakeNode(String name, String address, int nodePort) throws IOException {
    this.name = name;
    this.address = address;
    serve(nodePort, this::echo);
  }

  FakeNode withHealth(int port) throws IOException {
    serve(port, this::health);
    return this;
  }

  void healthy(boolean value) {
    healthy = value;
  }

  private interface Handler {
    void handle(Socket s) throws IOException;
  }

  private void serve(int port, Handler handler) throws IOException {
    ServerSocket server = new ServerSocket();
    server.setReuseAddress(true);
    server.bind(new InetSocketAddress(InetAddress.getByName(address), port));
    sockets.add(server);
    Thread.ofVirtual()
        .start(
            () -> {
              while (!server.isClosed()) {
                try {
                  Socket s = server.accept();
                  Thread.ofVirtual()
                      .start(
                          () -> {
                            try (s) {
                              handler.handle(s);
                            } catch (IOException e) {
                              // the client went away
                            }
                          });
                } catch (IOException e) {
                  return; // closed
                }
              }
            });
  }

  private void echo(Socket s) throws IOException {
    BufferedReader in =
        new BufferedReader(new InputStreamReader(s.getInputStream(), StandardCharsets.UTF_8));
    OutputStream out = s.getOutputStream();
    while (in.readLine() != null) {
      out.write((name + "\n").getBytes(StandardCharsets.UTF_8));
      out.flush();
    }
  }

  private void health(Socket s) throws IOException {
    BufferedReader in =
        new BufferedReader(new InputStreamReader(s.getInputStream(), StandardCharsets.UTF_8));
    String request = in.readLine();
    String status =
        request != null && request.startsWith("GET /healthz") && healthy
            ? "200 OK"
            : "503 Service Unavailable";
    s.getOutputStream()
        .write(
            ("HTTP/1.1 " + status + "\r\nContent-Length: 0\r\nConnection: close\r\n\r\n")
                .getBytes(StandardCharsets.UTF_8));
  }

  @Override
  public void close() throws IOException {
    for (ServerSocket s : sockets) {
      s.close();
    }
  }
}
