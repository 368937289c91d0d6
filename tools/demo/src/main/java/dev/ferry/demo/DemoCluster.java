package dev.ferry.demo;

import dev.ferry.provider.local.LoopbackAddresses;
import io.fabric8.kubernetes.api.model.Service;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.informers.ResourceEventHandler;
import io.fabric8.kubernetes.client.informers.SharedIndexInformer;
import io.fabric8.kubernetes.client.informers.cache.Cache;
import java.io.IOException;
import java.net.InetAddress;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * The demo's stand-in for kubelets and kube-proxy: simulated nodes, and pods for every Service of
 * type LoadBalancer or NodePort. Pods go on every node unless the Service's annotation {@code
 * demo.ferry.dev/pod-nodes} names the nodes.
 */
final class DemoCluster implements AutoCloseable {

  static final String POD_NODES = "demo.ferry.dev/pod-nodes";

  final List<SimulatedNode> nodes = new ArrayList<>();
  private final KubernetesClient client;
  private final Map<String, List<DemoPod>> pods = new HashMap<>();
  private SharedIndexInformer<Service> services;

  DemoCluster(KubernetesClient client, int nodeCount) {
    this.client = client;
    String[] zones = {"demo-a", "demo-b", "demo-c"};
    for (int i = 1; i <= nodeCount; i++) {
      nodes.add(
          new SimulatedNode(
              "demo-node-" + i, "127.0.10." + i, ipv6(i), zones[(i - 1) % zones.length]));
    }
  }

  /** The block of the nodes' IPv6 addresses, each added to the loopback while the demo runs. */
  static final String IPV6_NODES = "fdfe:44:10::";

  private final List<InetAddress> added = new ArrayList<>();

  /**
   * Node {@code i}'s IPv6 address, added to the loopback; null where the process may not add one
   * (the nodes, and the local provider, are IPv4 only then).
   */
  private String ipv6(int i) {
    try {
      if (LoopbackAddresses.unavailable(InetAddress.getByName(IPV6_NODES + "ffff")).isPresent()) {
        return null;
      }
      InetAddress a = InetAddress.getByName(IPV6_NODES + i);
      LoopbackAddresses.add(a);
      added.add(a);
      return IPV6_NODES + i;
    } catch (IOException e) {
      return null;
    }
  }

  /** Whether the nodes are dual-stack. */
  boolean dualStack() {
    return !added.isEmpty();
  }

  /** Registers the Node objects and starts following Services. */
  void start() {
    for (SimulatedNode n : nodes) {
      client.nodes().resource(n.toNode()).create();
    }
    services =
        client
            .services()
            .inAnyNamespace()
            .inform(
                new ResourceEventHandler<>() {
                  @Override
                  public void onAdd(Service s) {
                    sync();
                  }

                  @Override
                  public void onUpdate(Service old, Service s) {
                    sync();
                  }

                  @Override
                  public void onDelete(Service s, boolean unknown) {
                    sync();
                  }
                },
                0);
    sync();
  }

  SimulatedNode node(String name) {
    return nodes.stream().filter(n -> n.name.equals(name)).findFirst().orElseThrow();
  }

  /** The live pods of a Service (pods on stopped nodes are gone). */
  synchronized List<DemoPod> endpoints(String serviceKey) {
    return List.copyOf(pods.getOrDefault(serviceKey, List.of()));
  }

  private synchronized void sync() {
    if (services == null) {
      return; // the informer's first events come before inform() returns; it syncs again after
    }
    List<Service> relevant =
        services.getStore().list().stream()
            .filter(
                s ->
                    s.getSpec() != null
                        && List.of("LoadBalancer", "NodePort").contains(s.getSpec().getType()))
            .toList();
    List<String> keys = relevant.stream().map(Cache::metaNamespaceKeyFunc).toList();
    pods.entrySet()
        .removeIf(
            e -> {
              if (!keys.contains(e.getKey())) {
                e.getValue().forEach(DemoPod::close);
                return true;
              }
              return false;
            });
    for (Service s : relevant) {
      pods.computeIfAbsent(Cache.metaNamespaceKeyFunc(s), k -> startPods(s));
    }
    for (SimulatedNode n : nodes) {
      n.sync(relevant, this::endpoints);
    }
  }

  private List<DemoPod> startPods(Service s) {
    String wanted =
        s.getMetadata().getAnnotations() == null
            ? null
            : s.getMetadata().getAnnotations().get(POD_NODES);
    List<String> onNodes =
        wanted == null
            ? nodes.stream().filter(SimulatedNode::running).map(n -> n.name).toList()
            : Arrays.stream(wanted.split(",")).map(String::trim).filter(w -> !w.isEmpty()).toList();
    List<DemoPod> started = new ArrayList<>();
    int i = 1;
    for (String node : onNodes) {
      try {
        started.add(new DemoPod(s.getMetadata().getName() + "-" + i++, node));
      } catch (IOException e) {
        System.err.println(
            "  ! cannot start a pod for " + s.getMetadata().getName() + ": " + e.getMessage());
      }
    }
    return started;
  }

  /** Stops a node: its ports close and its pods die, as when a machine is switched off. */
  synchronized void stopNode(String name) {
    node(name).close();
    for (List<DemoPod> list : pods.values()) {
      list.removeIf(
          p -> {
            if (p.node.equals(name)) {
              p.close();
              return true;
            }
            return false;
          });
    }
  }

  @Override
  public synchronized void close() {
    if (services != null) {
      services.close();
    }
    nodes.forEach(SimulatedNode::close);
    pods.values().forEach(l -> l.forEach(DemoPod::close));
    pods.clear();
    added.forEach(LoopbackAddresses::remove);
  }
}
