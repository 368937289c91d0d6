package dev.ferry.demo;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.DatagramPacket;
import java.net.DatagramSocket;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.nio.charset.StandardCharsets;

/**
 * A stand-in for a pod: answers every TCP connection with a one-line HTTP/1.0 response naming
 * itself and its node (so {@code curl} and {@code nc} both work), and every UDP datagram with its
 * name and the payload.
 */
final class DemoPod implements AutoCloseable {

  final String name;
  final String node;
  private final ServerSocket tcp;
  private final DatagramSocket udp;
  private final Thread tcpLoop;
  private final Thread udpLoop;

  DemoPod(String name, String node) throws IOException {
    this.name = name;
    this.node = node;
    InetAddress loopback = InetAddress.getLoopbackAddress();
    this.tcp = new ServerSocket(0, 128, loopback);
    this.udp = new DatagramSocket(new InetSocketAddress(loopback, 0));
    this.tcpLoop = Thread.ofVirtual().start(this::serveTcp);
    this.udpLoop = Thread.ofVirtual().start(this::serveUdp);
  }

  String greeting() {
    return "pod " + name + " on " + node;
  }

  InetSocketAddress tcpEndpoint() {
    return (InetSocketAddress) tcp.getLocalSocketAddress();
  }

  InetSocketAddress udpEndpoint() {
    return (InetSocketAddress) udp.getLocalSocketAddress();
  }

  private void serveTcp() {
    while (!tcp.isClosed()) {
      try {
        Socket s = tcp.accept();
        Thread.ofVirtual().start(() -> answer(s));
      } catch (IOException e) {
        return;
      }
    }
  }

  private void answer(Socket s) {
    try (s) {
      s.setSoTimeout(300);
      readRequestHead(s.getInputStream());
      String body = greeting() + "\n";
      OutputStream out = s.getOutputStream();
      out.write(
          ("HTTP/1.0 200 OK\r\nContent-Type: text/plain\r\nContent-Length: "
                  + body.length()
                  + "\r\n\r\n"
                  + body)
              .getBytes(StandardCharsets.UTF_8));
      out.flush();
    } catch (IOException e) {
      // the client went away
    }
  }

  /** Reads an HTTP request head if one comes soon; a raw TCP client that sends nothing is fine. */
  private static void readRequestHead(InputStream in) throws IOException {
    int matched = 0;
    byte[] end = {'\r', '\n', '\r', '\n'};
    try {
      for (int i = 0; i < 16384; i++) {
        int c = in.read();
        if (c < 0) {
          return;
        }
        matched = c == end[matched] ? matched + 1 : (c == '\r' ? 1 : 0);
        if (matched == end.length) {
          return;
        }
      }
    } catch (SocketTimeoutException e) {
      // no request: answer anyway
    }
  }

  private void serveUdp() {
    byte[] buffer = new byte[2048];
    while (!udp.isClosed()) {
      try {
        DatagramPacket p = new DatagramPacket(buffer, buffer.length);
        udp.receive(p);
        String payload = new String(p.getData(), 0, p.getLength(), StandardCharsets.UTF_8).trim();
        byte[] reply = (greeting() + ": " + payload + "\n").getBytes(StandardCharsets.UTF_8);
        udp.send(new DatagramPacket(reply, reply.length, p.getSocketAddress()));
      } catch (IOException e) {
        return;
      }
    }
  }

  @Override
  public void close() {
    try {
      tcp.close();
    } catch (IOException e) {
      // closed already
    }
    udp.close();
    try {
      tcpLoop.join(5000);
      udpLoop.join(5000);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }
}
