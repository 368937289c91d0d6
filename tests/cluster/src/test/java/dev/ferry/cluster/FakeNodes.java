package dev.ferry.cluster;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;

/**
 * What a load balancer sees of a node, on a loopback address of its own: a pod behind the NodePort,
 * and kube-proxy's health endpoint.
 */
final class FakeNodes {

  private FakeNodes() {}

  /** Sends nothing, reads what {@code host:port} answers (up to 64 bytes); null when that fails. */
  static String ask(String host, int port) {
    try (Socket s = new Socket()) {
      s.connect(new InetSocketAddress(host, port), 2000);
      s.setSoTimeout(2000);
      byte[] buf = s.getInputStream().readNBytes(64);
      return buf.length == 0 ? null : new String(buf, StandardCharsets.UTF_8);
    } catch (IOException e) {
      return null;
    }
  }

  /** kube-proxy's {@code :10256/healthz} on a "node", which the load balancer checks. */
  static AutoCloseable kubeProxyHealth(String host) throws IOException {
    com.sun.net.httpserver.HttpServer server =
        com.sun.net.httpserver.HttpServer.create(
            new InetSocketAddress(InetAddress.getByName(host), 10256), 8);
    server.createContext(
        "/healthz",
        ex -> {
          ex.sendResponseHeaders(200, -1);
          ex.close();
        });
    server.start();
    return () -> server.stop(0);
  }

  /** A "node" that writes {@code text} to every connection on {@code host:port} and closes it. */
  static AutoCloseable answering(String host, int port, String text) throws IOException {
    ServerSocket server = new ServerSocket();
    server.setReuseAddress(true);
    server.bind(new InetSocketAddress(InetAddress.getByName(host), port));
    Thread.ofVirtual()
        .start(
            () -> {
              while (!server.isClosed()) {
                try (Socket s = server.accept();
                    OutputStream out = s.getOutputStream();
                    InputStream in = s.getInputStream()) {
                  out.write(text.getBytes(StandardCharsets.UTF_8));
                  out.flush();
                } catch (IOException e) {
                  // closed
                }
              }
            });
    return server;
  }
}
