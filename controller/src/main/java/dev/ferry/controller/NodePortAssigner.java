package dev.ferry.controller;

import dev.ferry.controller.NodePortAllocator.AllocationException;
import dev.ferry.controller.NodePortAllocator.Failure;
import dev.ferry.spi.PlanViolation;
import io.fabric8.kubernetes.api.model.Service;
import io.fabric8.kubernetes.api.model.ServiceBuilder;
import io.fabric8.kubernetes.api.model.ServicePort;
import io.fabric8.kubernetes.api.model.StatusCause;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
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

  NodePortAssigner(KubernetesClient client, NodePortAllocator allocator) {
    this.allocator = allocator;
    this.patches = client == null ? null : new ServicePatches(client);
  }

  NodePortAllocator allocator() {
    return allocator;
  }

  /** Records the ports {@code service} holds, where they are free; used for every Service seen. */
  void observe(Service service) {
    String owner = service.getMetadata().getUid();
    for (int port : heldPorts(service)) {
      try {
        allocator.allocate(port, owner);
      } catch (AllocationException e) {
        // outside Ferry's range, or a clash the reconcile of a LoadBalancer Service reports
      }
    }
  }

  /** Releases every port {@code service} held, then takes back those its spec still holds. */
  void forget(Service service, boolean deleted) {
    allocator.releaseAll(service.getMetadata().getUid());
    if (!deleted) {
      observe(service);
    }
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
    List<PlanViolation> conflicts = claimExisting(service, owner);
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
          return new Retry(new Outcome.RequeueAfter(Duration.ofMillis(200)));
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

  private List<PlanViolation> claimExisting(Service service, String owner) {
    List<PlanViolation> conflicts = new ArrayList<>();
    List<ServicePort> ports = service.getSpec().getPorts();
    for (int i = 0; i < ports.size(); i++) {
      Integer np = ports.get(i).getNodePort();
      if (np != null && np > 0) {
        claim(np, owner, "spec.ports[" + i + "].nodePort", conflicts);
      }
    }
    Integer hcnp = service.getSpec().getHealthCheckNodePort();
    if (needsHealthCheckPort(service) && hcnp != null && hcnp > 0) {
      claim(hcnp, owner, "spec.healthCheckNodePort", conflicts);
    }
    return conflicts;
  }

  private void claim(int port, String owner, String field, List<PlanViolation> conflicts) {
    try {
      allocator.allocate(port, owner);
    } catch (AllocationException e) {
      if (e.failure() == Failure.TAKEN) {
        conflicts.add(
            new PlanViolation(
                field,
                "port "
                    + port
                    + " is already allocated to another Service; remove it to get a free port, or choose another"));
      }
      // a port outside Ferry's range was accepted by the API server: respect it, do not track it
    }
  }

  private static int missingCount(Service service) {
    int missing =
        (int)
            service.getSpec().getPorts().stream()
                .filter(p -> p.getNodePort() == null || p.getNodePort() == 0)
                .count();
    Integer hcnp = service.getSpec().getHealthCheckNodePort();
    if (needsHealthCheckPort(service) && (hcnp == null || hcnp == 0)) {
      missing++;
    }
    return missing;
  }

  private static Service fill(Service service, List<Integer> picked) {
    Service copy = new ServiceBuilder(service).build();
    Iterator<Integer> next = picked.iterator();
    for (ServicePort p : copy.getSpec().getPorts()) {
      if (p.getNodePort() == null || p.getNodePort() == 0) {
        p.setNodePort(next.next());
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
