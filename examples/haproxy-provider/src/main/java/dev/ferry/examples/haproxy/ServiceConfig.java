package dev.ferry.examples.haproxy;

import dev.ferry.spi.Backend;
import dev.ferry.spi.HealthCheck;
import dev.ferry.spi.IpFamily;
import dev.ferry.spi.Listener;
import dev.ferry.spi.LoadBalancerPlan;
import dev.ferry.spi.LoadBalancerRef;
import dev.ferry.spi.Protocol;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * One Service's load balancer as an HAProxy configuration file: a frontend per port bound on the
 * Service's addresses (one per family, in {@code spec.ipFamilies} order: a dual-stack Service's
 * frontend binds its IPv4 and its IPv6 address), a backend per port with a server per node on the
 * NodePort (IPv4: the proxy reaches the nodes over IPv4 whichever family the client used). The file starts
 * with {@code #} lines that record what it was made from, so that a new provider instance finds the
 * ref, the address and the plan again from the file alone (never from memory).
 *
 * @param addresses the Service's addresses, one per family, in the Service's order
 * @param backends the nodes (name and address) that receive traffic
 */
record ServiceConfig(
    LoadBalancerRef ref,
    List<String> addresses,
    List<Listener> listeners,
    HealthCheck check,
    List<String> sourceRanges,
    boolean clientIp,
    List<Backend> backends) {

  private static final String MAGIC = "# ferry-haproxy 1";

  ServiceConfig {
    addresses = List.copyOf(addresses);
    listeners = List.copyOf(listeners);
    sourceRanges = List.copyOf(sourceRanges);
    backends = List.copyOf(backends);
  }

  /**
   * The configuration for {@code plan} on {@code addresses}; nodes without an IPv4 address are left
   * out.
   */
  static ServiceConfig of(LoadBalancerPlan plan, List<String> addresses) {
    return new ServiceConfig(
        plan.ref(),
        addresses,
        plan.listeners(),
        plan.healthCheck(),
        plan.sourceRanges(),
        plan.affinity().clientIp(),
        usable(plan.backends()));
  }

  /** The backends that can be configured (an IPv4 address); sorted by the plan already. */
  static List<Backend> usable(List<Backend> backends) {
    return backends.stream()
        .filter(b -> b.address().matches("[0-9.]+"))
        .map(b -> new Backend(b.nodeName(), "", b.address(), ""))
        .toList();
  }

  ServiceConfig withBackends(List<Backend> next) {
    return new ServiceConfig(
        ref, addresses, listeners, check, sourceRanges, clientIp, usable(next));
  }

  static String fileName(LoadBalancerRef ref) {
    return ref.uid() + ".cfg";
  }

  static String backendName(LoadBalancerRef ref, Listener l) {
    return "b-" + ref.uid() + "-" + l.port();
  }

  static String frontendName(LoadBalancerRef ref, Listener l) {
    return "f-" + ref.uid() + "-" + l.port();
  }

  /** The arguments after a server's name: address, port and check, as in a file or `add server`. */
  String serverArgs(Backend b, Listener l) {
    StringBuilder s =
        new StringBuilder(b.address() + ":" + l.nodePort())
            .append(" check inter ")
            .append(check.interval().toMillis())
            .append(" rise ")
            .append(check.healthyThreshold())
            .append(" fall ")
            .append(check.unhealthyThreshold());
    if (!check.onTrafficPort()) {
      s.append(" port ").append(check.port());
    }
    return s.toString();
  }

  String render() {
    List<String> out = new ArrayList<>();
    out.add(MAGIC);
    out.add("# ref " + ref.cluster() + " " + ref.namespace() + " " + ref.name() + " " + ref.uid());
    addresses.forEach(a -> out.add("# address " + a));
    for (Listener l : listeners) {
      out.add("# listener " + l.port() + " " + l.nodePort() + " " + orDash(l.name()));
    }
    out.add(
        "# check "
            + check.protocol()
            + " "
            + check.port()
            + " "
            + orDash(check.path())
            + " "
            + check.interval().toMillis()
            + " "
            + check.timeout().toMillis()
            + " "
            + check.healthyThreshold()
            + " "
            + check.unhealthyThreshold());
    out.add("# sources " + String.join(" ", sourceRanges));
    out.add("# affinity " + (clientIp ? "client-ip" : "none"));
    for (Backend b : backends) {
      out.add("# backend " + b.nodeName() + " " + b.address());
    }
    // open only when every bound family admits its every address; else a family without ranges
    // of its own matches none of the listed ones, and is closed
    boolean open =
        addresses.stream().allMatch(a -> sourceRanges.contains(IpFamily.of(a).everyAddress()));
    for (Listener l : listeners) {
      out.add("frontend " + frontendName(ref, l));
      for (String a : addresses) {
        out.add("  bind " + (a.contains(":") ? "ipv6@" : "") + a + ":" + l.port());
      }
      out.add("  option socket-stats");
      if (!open) {
        out.add(
            "  tcp-request connection reject unless { src "
                + String.join(" ", sourceRanges)
                + " }");
      }
      out.add("  default_backend " + backendName(ref, l));
      out.add("backend " + backendName(ref, l));
      // both balance the same way for servers added at run time (dynamic servers)
      out.add(clientIp ? "  balance source\n  hash-type consistent" : "  balance roundrobin");
      if (check.protocol() == HealthCheck.Type.HTTP) {
        out.add("  option httpchk GET " + check.path());
      }
      out.add("  timeout check " + check.timeout().toMillis());
      for (Backend b : backends) {
        out.add("  server " + b.nodeName() + " " + serverArgs(b, l));
      }
    }
    return String.join("\n", out) + "\n";
  }

  /** The configuration a file holds; empty when it is not one of this provider's. */
  static Optional<ServiceConfig> parse(String text) {
    String[] lines = text.split("\n");
    if (lines.length == 0 || !lines[0].equals(MAGIC)) {
      return Optional.empty();
    }
    LoadBalancerRef ref = null;
    List<String> addresses = new ArrayList<>();
    List<Listener> listeners = new ArrayList<>();
    HealthCheck check = null;
    List<String> sources = new ArrayList<>();
    boolean clientIp = false;
    List<Backend> backends = new ArrayList<>();
    for (String line : lines) {
      if (!line.startsWith("# ")) {
        break;
      }
      String[] f = line.substring(2).split(" ");
      switch (f[0]) {
        case "ref" -> ref = new LoadBalancerRef(f[1], f[2], f[3], f[4]);
        case "address" -> addresses.add(f[1]);
        case "listener" ->
            listeners.add(
                new Listener(
                    f[3].equals("-") ? "" : f[3],
                    Protocol.TCP,
                    Integer.parseInt(f[1]),
                    Integer.parseInt(f[2])));
        case "check" ->
            check =
                new HealthCheck(
                    HealthCheck.Type.valueOf(f[1]),
                    Integer.parseInt(f[2]),
                    f[3].equals("-") ? "" : f[3],
                    Duration.ofMillis(Long.parseLong(f[4])),
                    Duration.ofMillis(Long.parseLong(f[5])),
                    Integer.parseInt(f[6]),
                    Integer.parseInt(f[7]));
        case "sources" -> sources.addAll(List.of(f).subList(1, f.length));
        case "affinity" -> clientIp = f[1].equals("client-ip");
        case "backend" -> backends.add(new Backend(f[1], "", f[2], ""));
        default -> {}
      }
    }
    if (ref == null || addresses.isEmpty() || listeners.isEmpty() || check == null) {
      return Optional.empty();
    }
    return Optional.of(
        new ServiceConfig(ref, addresses, listeners, check, sources, clientIp, backends));
  }

  private static String orDash(String s) {
    return s.isEmpty() ? "-" : s;
  }
}
