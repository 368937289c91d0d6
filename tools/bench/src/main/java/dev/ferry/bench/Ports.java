package dev.ferry.bench;

import java.io.IOException;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ThreadLocalRandom;

/** Ports for the processes a bench run starts. */
final class Ports {
  private Ports() {}

  /**
   * {@code n} distinct ports free now, below the range the system hands out for outgoing
   * connections, and all held open until each is known. CI once failed with Ferry's metrics port
   * "already in use": a port from {@code new ServerSocket(0)} is an ephemeral one, which, once
   * closed, the next outgoing connection on this busy machine (the bench, the API server, etcd) may
   * take as its own before the controller binds it; and one at a time, two could be the same.
   */
  static int[] freePorts(int n) throws IOException {
    int below = ephemeralLow();
    List<ServerSocket> held = new ArrayList<>();
    try {
      int[] ports = new int[n];
      for (int i = 0, tries = 0; i < n; tries++) {
        if (tries > 1_000) {
          throw new IOException("no free port below " + below + " after 1,000 tries");
        }
        int port =
            below > 11_000 ? 10_000 + ThreadLocalRandom.current().nextInt(below - 10_000) : 0;
        try {
          ServerSocket s = new ServerSocket(port);
          held.add(s);
          ports[i++] = s.getLocalPort();
        } catch (IOException taken) {
          // someone's: try another
        }
      }
      return ports;
    } finally {
      for (ServerSocket s : held) {
        s.close();
      }
    }
  }

  /** The first port of the system's range for outgoing connections (Linux), else 32768. */
  private static int ephemeralLow() {
    try {
      // read by lines: Files.readString answers "3" for this file (procfs reports size 0)
      String range =
          Files.readAllLines(Path.of("/proc/sys/net/ipv4/ip_local_port_range")).get(0).trim();
      return Integer.parseInt(range.split("\\s+")[0]);
    } catch (IOException | RuntimeException e) {
      return 32_768;
    }
  }
}
