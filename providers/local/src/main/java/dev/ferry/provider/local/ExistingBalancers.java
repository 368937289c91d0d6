package dev.ferry.provider.local;

import dev.ferry.spi.Backend;
import dev.ferry.spi.HealthCheck;
import dev.ferry.spi.Listener;
import dev.ferry.spi.LoadBalancerPlan;
import dev.ferry.spi.LoadBalancerRef;
import dev.ferry.spi.Protocol;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Load balancers the local "cloud" has that Ferry did not make ({@value #SETTING}): what another
 * controller left, for Ferry to adopt ({@code ferry.dev/adopt: <name>}). Each is {@code
 * NAME=ADDRESS:PORT->NODEPORT@NODE[+NODE...]}, several separated by commas: a TCP listener on
 * ADDRESS:PORT to NODEPORT on each node address, checked by TCP every 10 s.
 */
final class ExistingBalancers {

  static final String SETTING = "local.existing";

  /** The owner of what no Service owns. */
  static LoadBalancerRef ref(String name) {
    return new LoadBalancerRef("unmanaged", "-", name, "unmanaged-" + name);
  }

  private ExistingBalancers() {}

  /** The load balancers {@code text} describes, by name (as plans). */
  static Map<String, LoadBalancerPlan> parse(String text) {
    Map<String, LoadBalancerPlan> out = new LinkedHashMap<>();
    if (text == null || text.isBlank()) {
      return out;
    }
    for (String entry : text.split(",")) {
      String e = entry.trim();
      java.util.regex.Matcher m =
          java.util.regex.Pattern.compile(
                  "([a-z0-9]([-a-z0-9.]*[a-z0-9])?)=([0-9.]+):([0-9]+)->([0-9]+)@([0-9.+]+)")
              .matcher(e);
      if (!m.matches()) {
        throw new IllegalArgumentException(
            "setting "
                + SETTING
                + ": '"
                + e
                + "' is not NAME=ADDRESS:PORT->NODEPORT@NODE[+NODE...] (e.g."
                + " legacy=127.0.162.10:80->31800@127.0.161.1)");
      }
      String name = m.group(1);
      int port = Integer.parseInt(m.group(4));
      int nodePort = Integer.parseInt(m.group(5));
      if (port < 1 || port > 65535 || nodePort < 1 || nodePort > 65535) {
        throw new IllegalArgumentException("setting " + SETTING + ": '" + e + "' has a bad port");
      }
      List<Backend> nodes = new ArrayList<>();
      for (String ip : m.group(6).split("\\+")) {
        nodes.add(new Backend("node-" + ip, "", ip, ""));
      }
      out.put(
          name,
          LoadBalancerPlan.builder(
                  ref(name),
                  List.of(new Listener(name, Protocol.TCP, port, nodePort)),
                  new HealthCheck(
                      HealthCheck.Type.TCP,
                      HealthCheck.TRAFFIC_PORT,
                      "",
                      Duration.ofSeconds(10),
                      Duration.ofSeconds(5),
                      2,
                      3))
              .backends(nodes)
              .requestedIp(java.util.Optional.of(m.group(3)))
              .build());
    }
    return out;
  }
}
