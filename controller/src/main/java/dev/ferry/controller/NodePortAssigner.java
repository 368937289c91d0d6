package dev.ferry.controller;

import dev.ferry.controller.NodePortAllocator.AllocationException;
import dev.ferry.spi.PlanViolation;
import io.fabric8.kubernetes.api.model.Service;
import io.fabric8.kubernetes.api.model.ServiceBuilder;
import io.fabric8.kubernetes.api.model.ServicePort;
import io.fabric8.kubernetes.api.model.StatusCause;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientException;
import io.fabric8.kubernetes.client.informers.cache.Cache;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Keeps the allocator in step with the Services in the cluster and fills the NodePorts (and the
 * healthCheckNodePort for {@code externalTrafficPolicy: Local}) a LoadBalancer Service lacks. Ports
 * already on the Service are respected; missing ones are taken all at once and written with the
 * Service's resourceVersion as precondition.
 */
final class NodePortAssigner {

  private static final Logger log = LoggerFactory.getLogger(NodePortAssigner.class);
  private static final int ATTEMPTS = 5;
  private static final Pattern PORT_FIELD =
      Pattern.compile("spec\\.(?:ports\\[(\\d+)]\\.nodePort|healthCheckNodePort)");

  /** The assigner's answer. */
  sealed interface Result permits Assigned, Conflict, Retry {}

  /** The Service, as now stored, with every port it needs. */
  record Assigned(Service service) implements Result {}

  /** The Service asks for ports Ferry cannot give it; the user must change it. */
  record Conflict(List<PlanViolation> violations) implements Result {}

  /** Try again later (write conflict, range full). */
  record Retry(Outcome outcome) implements Result {}

  private final NodePortAllocator allocator;
  private final ServicePatches patches;
  // Service keys whose ports another Service held when they were checked, by port: checked again
  // as soon as that port is let go
  private final Map<Integer, Set<String>> waiting = new HashMap<>();

  NodePortAssigner(KubernetesClient client, NodePortAllocator allocator) {
    this.allocator = allocator;
    this.patches = client == null ? null : new ServicePatches(client);
  }

  NodePortAllocator allocator() {
    return allocator;
  }

  /**
   * Makes the allocator hold exactly the ports {@code service} holds now, as the API server does:
   * ports it dropped (a port removed, a type change) are free at once. Called for every Service the
   * informer delivers, in order, so a port one Service let go is free before another Service that
   * took it is seen. Returns the keys of Services that waited for a port freed here.
   */
  Set<String> observe(Service service) {
    return unblocked(allocator.sync(service.getMetadata().getUid(), heldPorts(service)).released());
  }

  /** Releases every port a deleted {@code service} held; returns the Services that waited. */
  Set<String> forget(Service service) {
    return unblocked(allocator.releaseAll(service.getMetadata().getUid()));
  }

  private synchronized Set<String> unblocked(Set<Integer> freed) {
    Set<String> keys = new TreeSet<>();
    for (int port : freed) {
      Set<String> w = waiting.remove(port);
      if (w != null) {
        keys.addAll(w);
      }
    }
    return keys;
  }

  private synchronized void awaitPort(int port, Service service) {
    waiting.computeIfAbsent(port, p -> new TreeSet<>()).add(Cache.metaNamespaceKeyFunc(service));
  }

  /** Ports a Service holds on the nodes: NodePort and LoadBalancer ports, and Local health port. */
  static List<Integer> heldPorts(Service service) {
    List<Integer> ports = new ArrayList<>();
    String type = service.getSpec() == null ? null : service.getSpec().getType();
    if (!"NodePort".equals(type) && !"LoadBalancer".equals(type)) {
      return ports;
    }
    for (ServicePort p : service.getSpec().getPorts()) {
      if (p.getNodePort() != null && p.getNodePort() > 0) {
        ports.add(p.getNodePort());
      }
    }
    if (needsHealthCheckPort(service) && service.getSpec().getHealthCheckNodePort() != null) {
      ports.add(service.getSpec().getHealthCheckNodePort());
    }
    return ports;
  }

  static boolean needsHealthCheckPort(Service service) {
    return "LoadBalancer".equals(service.getSpec().getType())
        && "Local".equals(service.getSpec().getExternalTrafficPolicy());
  }

  Result assign(Service service) {
    String owner = service.getMetadata().getUid();
    List<PlanViolation> conflicts = claimExisting(service);
    if (!conflicts.isEmpty()) {
      return new Conflict(conflicts);
    }
    Service current = service;
    for (int attempt = 1; attempt <= ATTEMPTS; attempt++) {
      int missing = missingCount(current);
      if (missing == 0) {
        return new Assigned(current);
      }
      List<Integer> picked;
      try {
        picked = allocator.allocateNext(owner, missing);
      } catch (AllocationException e) {
        return new Retry(new Outcome.Failed(e.getMessage()));
      }
      Service filled = fill(current, picked);
      try {
        Service stored =
            patches.ports(
                current, filled.getSpec().getPorts(), filled.getSpec().getHealthCheckNodePort());
        log.info("allocated NodePorts {}", picked);
        return new Assigned(stored);
      } catch (KubernetesClientException e) {
        picked.forEach(allocator::release);
        if (e.getCode() == 409) {
          return new Retry(
              new Outcome.Conflict("the Service changed while NodePorts were written"));
        }
        if (e.getCode() == 422 && markRejected(e, filled)) {
          continue; // the API server knows a holder Ferry does not; pick again
        }
        return new Retry(new Outcome.Failed("writing NodePorts failed: " + e.getMessage()));
      }
    }
    return new Retry(
        new Outcome.Failed("the API server rejected " + ATTEMPTS + " NodePort choices in a row"));
  }

  /**
   * The ports the Service already names that another Service holds. On a real API server this
   * cannot happen (it refuses the second Service with 422); on one that does not check, the Service
   * waits, and is checked again as soon as the holder lets the port go.
   */
  private List<PlanViolation> claimExisting(Service service) {
    List<PlanViolation> conflicts = new ArrayList<>();
    Set<Integer> taken = allocator.sync(service.getMetadata().getUid(), heldPorts(service)).taken();
    if (taken.isEmpty()) {
      return conflicts;
    }
    List<ServicePort> ports = service.getSpec().getPorts();
    for (int i = 0; i < ports.size(); i++) {
      Integer np = ports.get(i).getNodePort();
      if (np != null && taken.contains(np)) {
        conflicts.add(conflict(np, "spec.ports[" + i + "].nodePort"));
      }
    }
    Integer hcnp = service.getSpec().getHealthCheckNodePort();
    if (needsHealthCheckPort(service) && hcnp != null && taken.contains(hcnp)) {
      conflicts.add(conflict(hcnp, "spec.healthCheckNodePort"));
    }
    taken.forEach(port -> awaitPort(port, service));
    return conflicts;
  }

  private static PlanViolation conflict(int port, String field) {
    return new PlanViolation(
        field,
        "port "
            + port
            + " is already allocated to another Service; remove it to get a free port, or choose another");
  }

  /**
   * How many ports to pick: one per port number that lacks a NodePort (TCP and UDP on one port
   * number share one, as the API server gives them), plus the healthCheckNodePort when needed.
   */
  private static int missingCount(Service service) {
    int missing = portNumbersLackingNodePort(service).size();
    Integer hcnp = service.getSpec().getHealthCheckNodePort();
    if (needsHealthCheckPort(service) && (hcnp == null || hcnp == 0)) {
      missing++;
    }
    return missing;
  }

  /** Port numbers with an entry lacking a NodePort that no sibling of the same number has. */
  private static Set<Integer> portNumbersLackingNodePort(Service service) {
    Set<Integer> known = new HashSet<>();
    Set<Integer> lacking = new HashSet<>();
    for (ServicePort p : service.getSpec().getPorts()) {
      if (p.getNodePort() != null && p.getNodePort() > 0) {
        known.add(p.getPort());
      } else {
        lacking.add(p.getPort());
      }
    }
    lacking.removeAll(known);
    return lacking;
  }

  private static Service fill(Service service, List<Integer> picked) {
    Service copy = new ServiceBuilder(service).build();
    Map<Integer, Integer> byPortNumber = new HashMap<>();
    for (ServicePort p : copy.getSpec().getPorts()) {
      if (p.getNodePort() != null && p.getNodePort() > 0) {
        byPortNumber.putIfAbsent(p.getPort(), p.getNodePort());
      }
    }
    Iterator<Integer> next = picked.iterator();
    for (ServicePort p : copy.getSpec().getPorts()) {
      if (p.getNodePort() == null || p.getNodePort() == 0) {
        p.setNodePort(byPortNumber.computeIfAbsent(p.getPort(), n -> next.next()));
      }
    }
    Integer hcnp = copy.getSpec().getHealthCheckNodePort();
    if (needsHealthCheckPort(copy) && (hcnp == null || hcnp == 0)) {
      copy.getSpec().setHealthCheckNodePort(next.next());
    }
    return copy;
  }

  /** Marks the ports a 422 names as taken; false when the error is about something else. */
  private boolean markRejected(KubernetesClientException e, Service attempted) {
    if (e.getStatus() == null
        || e.getStatus().getDetails() == null
        || e.getStatus().getDetails().getCauses() == null) {
      return false;
    }
    boolean marked = false;
    for (StatusCause cause : e.getStatus().getDetails().getCauses()) {
      if (cause.getField() == null
          || cause.getMessage() == null
          || !cause.getMessage().contains("already allocated")) {
        continue;
      }
      Matcher m = PORT_FIELD.matcher(cause.getField());
      if (!m.matches()) {
        continue;
      }
      Integer port =
          m.group(1) == null
              ? attempted.getSpec().getHealthCheckNodePort()
              : attempted.getSpec().getPorts().get(Integer.parseInt(m.group(1))).getNodePort();
      if (port != null) {
        allocator.markTaken(port);
        marked = true;
      }
    }
    return marked;
  }
}
