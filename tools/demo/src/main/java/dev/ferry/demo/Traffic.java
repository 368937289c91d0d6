package dev.ferry.demo;

import java.io.IOException;
import java.io.InputStream;
import java.net.DatagramPacket;
import java.net.DatagramSocket;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;

/** The demo's clients: one TCP request or one UDP datagram, answering what the pod said. */
final class Traffic {

  private Traffic() {}

  /** The greeting a pod sent through {@code ip:port} over TCP, or null when nothing answered. */
  static String tcp(String ip, int port) {
    try (Socket s = new Socket()) {
      s.connect(new InetSocketAddress(ip, port), 2000);
      s.setSoTimeout(3000);
      s.getOutputStream()
          .write(
              ("GET / HTTP/1.0\r\nHost: " + ip + "\r\n\r\n").getBytes(StandardCharsets.US_ASCII));
      InputStream in = s.getInputStream();
      String response = new String(in.readAllBytes(), StandardCharsets.UTF_8);
      String[] lines = response.strip().split("\n");
      String last = lines[lines.length - 1].strip();
      return last.startsWith("pod ") ? last : null;
    } catch (IOException e) {
      return null;
    }
  }

  /** The reply to one datagram to {@code ip:port}, or null when none came within a second. */
  static String udp(String ip, int port, String payload) {
    try (DatagramSocket s = new DatagramSocket()) {
      s.setSoTimeout(1000);
      byte[] data = payload.getBytes(StandardCharsets.UTF_8);
      s.send(new DatagramPacket(data, data.length, InetAddress.getByName(ip), port));
      byte[] buffer = new byte[2048];
      DatagramPacket reply = new DatagramPacket(buffer, buffer.length);
      s.receive(reply);
      return new String(reply.getData(), 0, reply.getLength(), StandardCharsets.UTF_8).strip();
    } catch (IOException e) {
      return null;
    }
  }

  /** The node named in a pod's answer ("pod web-2 on demo-node-2"), or null. */
  static String node(String answer) {
    if (answer == null) {
      return null;
    }
    int on = answer.indexOf(" on ");
    if (on < 0) {
      return null;
    }
    String rest = answer.substring(on + 4);
    int end = rest.indexOf(':');
    return end < 0 ? rest.strip() : rest.substring(0, end).strip();
  }
}
