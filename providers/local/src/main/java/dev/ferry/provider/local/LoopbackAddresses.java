package dev.ferry.provider.local;

import java.io.IOException;
import java.net.Inet6Address;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;

/**
 * IPv6 addresses made local on the loopback interface, the way a cloud attaches an address to a
 * load balancer: Linux routes all of 127.0.0.0/8 to {@code lo}, but of IPv6 only {@code ::1}, and
 * binds only to an address an interface has. So each IPv6 load-balancer address (and a simulated
 * node's) is added to {@code lo} with {@code ip -6 addr} when taken and removed when released;
 * traffic to it never leaves the host. Needs iproute2 and CAP_NET_ADMIN (root); {@link
 * #unavailable} says why not, once per JVM.
 */
public final class LoopbackAddresses {

  private static final Map<String, Optional<String>> PROBED = new ConcurrentHashMap<>();
  // what this process added and has not removed: removed when the JVM exits (a local load balancer
  // lives only as long as its process, and so does its address)
  private static final Set<InetAddress> ADDED = ConcurrentHashMap.newKeySet();

  static {
    Runtime.getRuntime()
        .addShutdownHook(
            new Thread(
                () -> List.copyOf(ADDED).forEach(LoopbackAddresses::remove), "loopback-addresses"));
  }

  private LoopbackAddresses() {}

  /**
   * Empty when this process can add {@code probe} to the loopback and bind to it; else why not.
   * {@code probe} should be an address nothing else uses: it is removed again.
   */
  public static Optional<String> unavailable(InetAddress probe) {
    return PROBED.computeIfAbsent(probe.getHostAddress(), k -> probe(probe));
  }

  private static Optional<String> probe(InetAddress probe) {
    try {
      add(probe);
      try (ServerSocket s = new ServerSocket()) {
        s.bind(new InetSocketAddress(probe, 0));
      } finally {
        remove(probe);
      }
      return Optional.empty();
    } catch (IOException e) {
      return Optional.of(e.getMessage());
    }
  }

  /** Adds {@code address} to {@code lo} (an IPv4 one in 127.0.0.0/8 is local already). */
  public static void add(InetAddress address) throws IOException {
    if (address instanceof Inet6Address && !address.isLoopbackAddress()) {
      ip("replace", address);
      ADDED.add(address);
    }
  }

  /** Removes {@code address} from {@code lo}; quietly when it is not there. */
  public static void remove(InetAddress address) {
    if (address instanceof Inet6Address && !address.isLoopbackAddress()) {
      ADDED.remove(address);
      try {
        ip("del", address);
      } catch (IOException e) {
        // not there, or no longer ours to remove
      }
    }
  }

  private static void ip(String verb, InetAddress address) throws IOException {
    List<String> cmd =
        List.of("ip", "-6", "addr", verb, address.getHostAddress() + "/128", "dev", "lo");
    if (verb.equals("replace")) {
      cmd = new java.util.ArrayList<>(cmd);
      cmd.add("nodad"); // usable at once, no duplicate address detection on the loopback
    }
    Process p;
    try {
      p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
    } catch (IOException e) {
      throw new IOException("cannot run ip (iproute2): " + e.getMessage(), e);
    }
    try {
      if (!p.waitFor(10, TimeUnit.SECONDS)) {
        p.destroyForcibly();
        throw new IOException(String.join(" ", cmd) + " did not finish in 10 s");
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IOException("interrupted", e);
    }
    if (p.exitValue() != 0) {
      String out = new String(p.getInputStream().readAllBytes()).strip();
      throw new IOException(
          String.join(" ", cmd)
              + " failed ("
              + out
              + ")"
              + (out.contains("not permitted") ? "; it needs CAP_NET_ADMIN (root)" : ""));
    }
  }
}
