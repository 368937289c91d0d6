package dev.ferry.demo;

import com.sun.net.httpserver.HttpServer;
import dev.ferry.provider.local.L4Proxy;
import dev.ferry.provider.local.Router;
import dev.ferry.provider.local.TcpProxy;
import dev.ferry.provider.local.UdpProxy;
import io.fabric8.kubernetes.api.model.Node;
import io.fabric8.kubernetes.api.model.NodeBuilder;
import io.fabric8.kubernetes.api.model.Service;
import io.fabric8.kubernetes.api.model.ServicePort;
import io.fabric8.kubernetes.client.informers.cache.Cache;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Function;

/**
 * A simulated node on its own loopback address (and an IPv6 one where the process may add it to the
 * loopback: a dual-stack node), with a tiny kube-proxy: it serves kube-proxy's {@code
 * :10256/healthz}, listens on every Service's NodePorts and forwards to the demo pods, and serves
 * the healthCheckNodePort {@code /healthz} of {@code externalTrafficPolicy: Local} Services (200
 * only with a local pod). Under Local policy a node without a local pod does not open the NodePort
 * at all, so a load balancer's connection is refused there, as kube-proxy drops it. Under Cluster
 * policy this node prefers its own pods, then any other live pod (a simplification that keeps the
 * demo's output readable).
 */
final class SimulatedNode implements AutoCloseable {

  private record PortKey(String service, String protocol, int nodePort) {}

  final String name;
  final String address;
  final String zone;

  /** The node's InternalIPs: {@link #address}, and an IPv6 one on a dual-stack node. */
  final List<String> addresses;

  private final Map<PortKey, List<L4Proxy>> proxies = new HashMap<>();
  private final Map<String, List<HttpServer>> healthServers = new HashMap<>();
  private final AtomicInteger cursor = new AtomicInteger();
  private volatile boolean running = true;

  private final List<HttpServer> kubeProxyHealth = new java.util.ArrayList<>();

  SimulatedNode(String name, String address, String ipv6, String zone) {
    this.name = name;
    this.address = address;
    this.zone = zone;
    this.addresses = ipv6 == null ? List.of(address) : List.of(address, ipv6);
    addresses.forEach(a -> kubeProxyHealth.add(startKubeProxyHealth(a)));
  }

  /**
   * kube-proxy's own health endpoint, {@code :10256/healthz}: 200 while the node runs. Load
   * balancers check it for Services with {@code externalTrafficPolicy: Cluster}, whatever their
   * protocol, so a node that stops is taken out for UDP as for TCP.
   */
  private HttpServer startKubeProxyHealth(String address) {
    try {
      HttpServer server = HttpServer.create(new InetSocketAddress(address, 10256), 16);
      server.createContext(
          "/healthz",
          ex -> {
            byte[] body =
                ("{\"lastUpdated\":\"%s\",\"currentTime\":\"%s\"}\n"
                        .formatted(java.time.Instant.now(), java.time.Instant.now()))
                    .getBytes(StandardCharsets.UTF_8);
            ex.getResponseHeaders().set("Content-Type", "application/json");
            ex.sendResponseHeaders(running ? 200 : 503, body.length);
            try (OutputStream out = ex.getResponseBody()) {
              out.write(body);
            }
          });
      server.start();
      return server;
    } catch (IOException e) {
      throw new IllegalStateException(
          name + " cannot serve kube-proxy's health port 10256: " + e.getMessage(), e);
    }
  }

  boolean running() {
    return running;
  }

  Node toNode() {
    return new NodeBuilder()
        .withNewMetadata()
        .withName(name)
        .addToLabels("topology.kubernetes.io/zone", zone)
        .addToLabels("kubernetes.io/hostname", name)
        .endMetadata()
        .withNewSpec()
        .withProviderID("demo://" + name)
        .endSpec()
        .withNewStatus()
        .addAllToAddresses(
            addresses.stream()
                .map(
                    a ->
                        new io.fabric8.kubernetes.api.model.NodeAddressBuilder()
                            .withType("InternalIP")
                            .withAddress(a)
                            .build())
                .toList())
        .addNewAddress()
        .withType("Hostname")
        .withAddress(name)
        .endAddress()
        .addNewCondition()
        .withType("Ready")
        .withStatus("True")
        .withReason("KubeletReady")
        .endCondition()
        .endStatus()
        .build();
  }

  /** Opens and closes NodePorts and health ports so they match {@code services}. */
  synchronized void sync(List<Service> services, Function<String, List<DemoPod>> endpoints) {
    if (!running) {
      return;
    }
    Set<PortKey> wanted = new HashSet<>();
    Set<String> wantedHealth = new HashSet<>();
    for (Service s : services) {
      String key = Cache.metaNamespaceKeyFunc(s);
      boolean local = "Local".equals(s.getSpec().getExternalTrafficPolicy());
      boolean hasLocalPod = endpoints.apply(key).stream().anyMatch(p -> p.node.equals(name));
      if (local && s.getSpec().getHealthCheckNodePort() != null) {
        String healthKey = key + "@" + s.getSpec().getHealthCheckNodePort();
        wantedHealth.add(healthKey);
        healthServers.computeIfAbsent(
            healthKey,
            k ->
                addresses.stream()
                    .map(
                        a ->
                            startHealthServer(
                                a, key, s.getSpec().getHealthCheckNodePort(), endpoints))
                    .toList());
      }
      if (local && !hasLocalPod) {
        continue;
      }
      for (ServicePort p : s.getSpec().getPorts()) {
        if (p.getNodePort() == null || p.getNodePort() == 0) {
          continue;
        }
        String protocol = p.getProtocol() == null ? "TCP" : p.getProtocol();
        PortKey pk = new PortKey(key, protocol, p.getNodePort());
        wanted.add(pk);
        if (!proxies.containsKey(pk)) {
          List<L4Proxy> open = new java.util.ArrayList<>();
          for (String a : addresses) {
            L4Proxy proxy = openProxy(a, pk, local, endpoints);
            if (proxy != null) {
              open.add(proxy);
            }
          }
          proxies.put(pk, open);
        }
      }
    }
    proxies
        .entrySet()
        .removeIf(
            e -> {
              if (!wanted.contains(e.getKey())) {
                e.getValue().forEach(L4Proxy::close);
                return true;
              }
              return false;
            });
    healthServers
        .entrySet()
        .removeIf(
            e -> {
              if (!wantedHealth.contains(e.getKey())) {
                e.getValue().forEach(h -> h.stop(0));
                return true;
              }
              return false;
            });
  }

  private L4Proxy openProxy(
      String address, PortKey pk, boolean local, Function<String, List<DemoPod>> endpoints) {
    boolean udp = pk.protocol().equals("UDP");
    Router router =
        new Router() {
          @Override
          public boolean admits(InetAddress client) {
            return true;
          }

          @Override
          public Optional<InetSocketAddress> route(
              InetAddress client, Set<InetSocketAddress> tried) {
            List<DemoPod> all = endpoints.apply(pk.service());
            List<DemoPod> mine = all.stream().filter(p -> p.node.equals(name)).toList();
            List<DemoPod> candidates = local || !mine.isEmpty() ? mine : all;
            List<InetSocketAddress> targets =
                candidates.stream()
                    .map(p -> udp ? p.udpEndpoint() : p.tcpEndpoint())
                    .filter(t -> !tried.contains(t))
                    .toList();
            if (targets.isEmpty()) {
              return Optional.empty();
            }
            return Optional.of(
                targets.get(Math.floorMod(cursor.getAndIncrement(), targets.size())));
          }
        };
    InetSocketAddress bind = new InetSocketAddress(address, pk.nodePort());
    try {
      return udp
          ? UdpProxy.open(bind, router, InetAddress.getLoopbackAddress(), Duration.ofSeconds(30))
          : TcpProxy.open(bind, router, Duration.ofSeconds(1));
    } catch (IOException e) {
      System.err.printf(
          "  ! %s cannot open NodePort %d/%s: %s%n",
          name, pk.nodePort(), pk.protocol(), e.getMessage());
      return null;
    }
  }

  private HttpServer startHealthServer(
      String address, String serviceKey, int port, Function<String, List<DemoPod>> endpoints) {
    try {
      HttpServer server = HttpServer.create(new InetSocketAddress(address, port), 16);
      server.createContext(
          "/healthz",
          ex -> {
            long local =
                endpoints.apply(serviceKey).stream().filter(p -> p.node.equals(name)).count();
            String[] ns = serviceKey.split("/", 2);
            byte[] body =
                ("{\"service\":{\"namespace\":\"%s\",\"name\":\"%s\"},\"localEndpoints\":%d}\n"
                        .formatted(ns[0], ns[1], local))
                    .getBytes(StandardCharsets.UTF_8);
            ex.getResponseHeaders().set("Content-Type", "application/json");
            ex.sendResponseHeaders(local > 0 ? 200 : 503, body.length);
            try (OutputStream out = ex.getResponseBody()) {
              out.write(body);
            }
          });
      server.start();
      return server;
    } catch (IOException e) {
      throw new IllegalStateException(
          name + " cannot serve health port " + port + ": " + e.getMessage(), e);
    }
  }

  /** The node dies: every port it served closes. */
  @Override
  public synchronized void close() {
    running = false;
    proxies.values().forEach(l -> l.forEach(L4Proxy::close));
    proxies.clear();
    healthServers.values().forEach(l -> l.forEach(s -> s.stop(0)));
    healthServers.clear();
    kubeProxyHealth.forEach(s -> s.stop(0));
  }
}
