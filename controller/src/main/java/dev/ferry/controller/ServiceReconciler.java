package dev.ferry.controller;

import dev.ferry.controller.StatusWriter.Ready;
import dev.ferry.spi.Backend;
import dev.ferry.spi.Capabilities;
import dev.ferry.spi.LoadBalancerPlan;
import dev.ferry.spi.LoadBalancerRef;
import dev.ferry.spi.LoadBalancerStatus;
import dev.ferry.spi.PlanViolation;
import dev.ferry.spi.ProviderException;
import dev.ferry.spi.ReclaimPolicy;
import io.fabric8.kubernetes.api.model.Service;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientException;
import io.micrometer.core.instrument.MeterRegistry;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.LongAdder;
import java.util.function.Function;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.slf4j.MDC;

/**
 * Brings one Service's load balancer in line with the Service: cleanup when it is deleted or no
 * longer Ferry's, otherwise finalizer, NodePorts, plan, provider, status. Reads the newest object
 * from the informer cache; keeps in memory only the last plan it applied per Service (and the
 * Service content it was made from), to choose between no call, {@code updateBackends} and {@code
 * ensure} (after a restart every Service is ensured once, which is idempotent).
 */
final class ServiceReconciler {

  private static final Logger log = LoggerFactory.getLogger(ServiceReconciler.class);

  private final Function<String, Service> services;
  private final Supplier<List<Service>> allServices;
  private final Supplier<NodeEligibility.Eligible> eligibleBackends;
  private final GuardedProvider provider;
  private final ServiceClassifier classifier;
  private final NodePortAssigner ports;
  private final ServiceEvents events;
  private final Planner.Settings plannerSettings;
  // the last plan that succeeded, and the last one announced with an EnsuringLoadBalancer event
  private final Map<String, Applied> applied = new ConcurrentHashMap<>();
  private final Map<String, LoadBalancerPlan> announced = new ConcurrentHashMap<>();
  // Services due for a full, read-first check (drift repair)
  private final Set<String> resyncDue = ConcurrentHashMap.newKeySet();
  // the status of load balancers the periodic check found in step, for the next reconcile
  private final Map<String, LoadBalancerStatus> checked = new ConcurrentHashMap<>();
  // Services whose load balancer exists but whose cloud had no address for it yet
  private final Set<String> awaitingAddress = ConcurrentHashMap.newKeySet();
  private final ServicePatches patches;
  private final StatusWriter status;
  private final ServiceOwnership ownership;
  private final ServiceProblems problems;
  private final RetainedClaims claims;

  ServiceReconciler(
      KubernetesClient client,
      Function<String, Service> services,
      Supplier<List<Service>> allServices,
      Supplier<NodeEligibility.Eligible> eligibleBackends,
      GuardedProvider provider,
      ServiceClassifier classifier,
      NodePortAssigner ports,
      ServiceEvents events,
      Planner.Settings plannerSettings,
      MeterRegistry registry) {
    this.services = services;
    this.allServices = allServices;
    this.eligibleBackends = eligibleBackends;
    this.provider = provider;
    this.classifier = classifier;
    this.ports = ports;
    this.events = events;
    this.plannerSettings = plannerSettings;
    this.patches = new ServicePatches(client);
    this.status = new StatusWriter(patches, events, registry);
    this.problems = new ServiceProblems(events, status);
    this.ownership =
        new ServiceOwnership(patches, classifier.owner(), plannerSettings.clusterName());
    Capabilities caps = provider.capabilities();
    this.claims =
        new RetainedClaims(
            provider,
            plannerSettings.clusterName(),
            caps.addressKind() == dev.ferry.spi.AddressKind.IP && caps.requestedIp());
  }

  Outcome reconcile(String key) {
    Service service = services.apply(key);
    if (service == null) {
      forget(key);
      problems.forget(key);
      return Outcome.DONE;
    }
    MDC.put("service.namespace", service.getMetadata().getNamespace());
    MDC.put("service.name", service.getMetadata().getName());
    MDC.put("service.uid", service.getMetadata().getUid());
    try {
      if (classifier.wantsLoadBalancer(service)) {
        return ensure(key, service);
      }
      if (classifier.mustCleanUp(service)) {
        return cleanup(key, service);
      }
      return Outcome.DONE;
    } catch (KubernetesClientException e) {
      if (e.getCode() == 409) {
        return new Outcome.Conflict("the Service changed meanwhile: " + e.getMessage());
      }
      if (e.getCode() == 404) {
        return Outcome.DONE; // gone meanwhile; its delete event re-queues if needed
      }
      if (e.getCode() >= 400 && e.getCode() < 500 && e.getCode() != 429) {
        // refused, e.g. RBAC (403): tell the Service's owner and the operator, then back off
        events.warning(
            service,
            ServiceEvents.SYNC_FAILED,
            "The API server refused Ferry's write: " + e.getMessage());
      }
      return new Outcome.Failed("Kubernetes API: " + e.getMessage());
    } finally {
      MDC.clear();
    }
  }

  private Outcome ensure(String key, Service service) {
    if (!ServiceClassifier.hasFinalizer(service)
        || ServiceClassifier.ownerOf(service) == null
        || ServiceClassifier.ownerCluster(service) == null) {
      service = ownership.set(key, service, true); // before any cloud call
    }
    if (!classifier.selectedByClass(service)) {
      problems.notice(
          key,
          service,
          "Ferry keeps serving this Service because it provisioned it ("
              + ServiceClassifier.OWNER
              + "), though its class flags no longer select it; delete the Service or change its"
              + " type to release the load balancer");
    }
    Outcome nodesOnly = nodesOnly(key, service);
    if (nodesOnly != null) {
      return nodesOnly;
    }
    Service withPorts;
    switch (ports.assign(service)) {
      case NodePortAssigner.Assigned a -> withPorts = a.service();
      case NodePortAssigner.Conflict c -> {
        return problems.rejected(service, c.violations());
      }
      case NodePortAssigner.Retry r -> {
        if (r.outcome() instanceof Outcome.Failed f) {
          events.warning(service, ServiceEvents.SYNC_FAILED, f.reason());
          status.write(
              service,
              Optional.empty(),
              StatusWriter.condition(Ready.no(Ready.PENDING, f.reason())));
        }
        return r.outcome();
      }
    }
    LoadBalancerPlan plan;
    NodeEligibility.Eligible nodes = eligibleBackends.get();
    switch (Planner.plan(withPorts, nodes.backends(), nodes.labels(), plannerSettings)) {
      case Planner.Rejected r -> {
        return problems.rejected(withPorts, r.violations());
      }
      case Planner.Planned p -> plan = p.plan();
    }
    Capabilities caps;
    try {
      caps = provider.checkedCapabilities();
    } catch (ProviderException e) {
      return problems.syncFailed(withPorts, e);
    }
    IpFamilyFit.Fit fit = IpFamilyFit.fit(plan, caps);
    plan = fit.plan();
    String adopt = Adoptions.idOf(withPorts);
    if (adopt != null) {
      plan = plan.toBuilder().adopt(Optional.of(adopt)).build();
    }
    List<PlanViolation> unsupported = new ArrayList<>(caps.violations(plan));
    if (unsupported.isEmpty() && plan.sharingKey().isPresent()) {
      List<PlanViolation> clash =
          SharedAddresses.conflicts(withPorts, allServices.get(), classifier::wantsLoadBalancer);
      if (!clash.isEmpty()) {
        problems.rejected(withPorts, clash);
        // the Service it clashes with may go or change: look again, slowly
        return new Outcome.RequeueAfter(java.time.Duration.ofSeconds(30));
      }
    }
    boolean claims = "true".equalsIgnoreCase(annotation(withPorts, Planner.CLAIM_RETAINED));
    if (claims && !caps.retain()) {
      unsupported.add(
          new PlanViolation(
              "metadata.annotations[" + Planner.CLAIM_RETAINED + "]",
              "this provider keeps no addresses after their Service; remove the annotation"));
    } else if (claims && unsupported.isEmpty()) {
      try {
        plan = this.claims.resolve(key, withPorts, plan);
      } catch (ProviderException e) {
        return problems.syncFailed(withPorts, e);
      }
    }
    if (!unsupported.isEmpty()) {
      return problems.rejected(withPorts, unsupported);
    }
    if (adopt != null) {
      try {
        boolean served = appliedPlan(key) != null || provider.find(plan.ref()).isPresent();
        switch (Adoptions.check(withPorts, plan, served, provider)) {
          case Adoptions.Go go -> plan = go.plan();
          case Adoptions.Wait wait -> {
            problems.normalOnce(key, withPorts, "AdoptionPending", wait.message());
            // the user's confirmation (a change of the Service) brings it back
            return status.write(
                withPorts,
                Optional.empty(),
                StatusWriter.condition(Ready.no(Ready.ADOPTION_PENDING, wait.message())));
          }
        }
      } catch (ProviderException e) {
        return problems.syncFailed(withPorts, e);
      }
    }
    Service planned = withPorts;
    fit.notice()
        .ifPresent(m -> problems.normalOnce(key, planned, ServiceEvents.FAMILY_NOT_SERVED, m));
    problems.nodesWithoutAddress(key, planned, plan, provider);

    boolean resync = resyncDue.remove(key);
    LoadBalancerStatus checkedInStep = checked.remove(key);
    LoadBalancerPlan last = appliedPlan(key);
    if (plan.equals(last) && !resync) {
      if (checkedInStep != null) {
        return published(key, withPorts, checkedInStep); // writes only what differs
      }
      return awaitingAddress.contains(key) ? recheckAddress(key, withPorts, plan) : Outcome.DONE;
    }
    if (!resync && last != null && last.withBackends(plan.backends()).equals(plan)) {
      return updateBackends(key, withPorts, plan);
    }
    return ensureBalancer(key, withPorts, plan);
  }

  /**
   * A node change for a Service whose spec and annotations are those its applied plan was made
   * from: only the backends can differ, so they are computed alone (no NodePort check, no planning,
   * no capability check, all of which gave the same answer before) and sent if changed. Null when
   * anything else may have changed: the whole reconcile follows.
   */
  private Outcome nodesOnly(String key, Service service) {
    Applied last = applied.get(key);
    if (last == null
        || !last.madeFrom(service)
        || resyncDue.contains(key)
        || checked.containsKey(key)
        || awaitingAddress.contains(key)) {
      return null;
    }
    NodeEligibility.Eligible nodes = eligibleBackends.get();
    List<Backend> backends = Planner.backends(service, nodes.backends(), nodes.labels());
    if (backends == null) {
      return null;
    }
    nodesOnlyReconciles.increment();
    LoadBalancerPlan plan = last.plan().withBackends(backends);
    problems.nodesWithoutAddress(key, service, plan, provider);
    return plan.equals(last.plan()) ? Outcome.DONE : updateBackends(key, service, plan);
  }

  /** Reconciles that took {@link #nodesOnly}'s way, for the tests. */
  static final LongAdder nodesOnlyReconciles = new LongAdder();

  /** Forgets every memo of what was applied: a new leadership term checks everything afresh. */
  void forgetAll() {
    claims.forgetAll();
    ownership.forgetAll();
    checked.clear();
    applied.clear();
    announced.clear();
    awaitingAddress.clear();
    resyncDue.clear();
  }

  /** Whether an update of {@code service} is the echo of Ferry's own ownership write. */
  boolean ownWrite(String key, Service service) {
    return ownership.ownWrite(key, service);
  }

  /** The plan last applied for {@code key}, or null. */
  LoadBalancerPlan appliedPlan(String key) {
    Applied a = applied.get(key);
    return a == null ? null : a.plan();
  }

  /** The periodic check found {@code key}'s load balancer in step, with this status. */
  void checked(String key, LoadBalancerStatus status) {
    checked.put(key, status);
  }

  /** Marks {@code key} for a full, read-first check at its next reconcile (drift repair). */
  void resync(String key) {
    resyncDue.add(key);
  }

  /**
   * Calls {@code ensure}. Events only say what is new: "Ensuring" once per plan (not on each retry
   * or periodic check), "Ensured" when a plan first succeeds.
   */
  private Outcome ensureBalancer(String key, Service service, LoadBalancerPlan plan) {
    if (!plan.equals(announced.put(key, plan))) {
      events.normal(service, ServiceEvents.ENSURING, "Ensuring load balancer");
    }
    LoadBalancerStatus found;
    try {
      // the address the Service shows wins over any derived choice (restarts keep addresses)
      found = provider.ensure(plan.withCurrentAddresses(IngressStatus.addressesOf(service)));
    } catch (ProviderException e) {
      return problems.syncFailed(service, e);
    }
    Applied before = applied.put(key, Applied.of(plan, service));
    if (before == null || !plan.equals(before.plan())) {
      events.normal(service, ServiceEvents.ENSURED, "Ensured load balancer");
    }
    return published(key, service, found);
  }

  /**
   * Writes the status and the condition; while the cloud has no address yet, the Service is checked
   * again with backoff through the provider's read-only {@code find}.
   */
  private Outcome published(String key, Service service, LoadBalancerStatus found) {
    if (found.ingress().isEmpty()) {
      awaitingAddress.add(key);
      Outcome written =
          status.write(
              service,
              Optional.of(List.of()),
              StatusWriter.condition(
                  Ready.no(Ready.PENDING, "The cloud has not assigned an address yet")));
      log.info("load balancer made; the cloud has not assigned its address yet");
      return written != Outcome.DONE
          ? written
          : new Outcome.Failed("waiting for the cloud to assign an address");
    }
    Ready provisioned = IngressStatus.provisioned(found);
    Outcome written =
        status.write(
            service,
            Optional.of(IngressStatus.toIngress(found)),
            StatusWriter.condition(provisioned));
    if (written != Outcome.DONE) {
      return written;
    }
    awaitingAddress.remove(key);
    problems.served(key);
    if (!provisioned.ready()) {
      // a port the provider could not make (a taken port, say) is tried again by a full ensure,
      // with the key's backoff, rather than at the next periodic check
      resyncDue.add(key);
      return new Outcome.Failed(provisioned.message());
    }
    log.debug("ensured load balancer: {}", IngressStatus.describe(found));
    return Outcome.DONE;
  }

  private Outcome recheckAddress(String key, Service service, LoadBalancerPlan plan) {
    Optional<LoadBalancerStatus> found;
    try {
      found = provider.find(plan.ref());
    } catch (ProviderException e) {
      return problems.syncFailed(service, e);
    }
    if (found.isEmpty()) {
      applied.remove(key); // gone meanwhile: make it again
      return ensureBalancer(key, service, plan);
    }
    return published(key, service, found.get());
  }

  private Outcome updateBackends(String key, Service service, LoadBalancerPlan plan) {
    try {
      provider.updateBackends(plan.ref(), plan.backends());
    } catch (ProviderException.Throttled t) {
      log.info("updating backends: throttled, retrying in {}", t.retryAfter());
      return new Outcome.RequeueAfter(t.retryAfter());
    } catch (ProviderException e) {
      // e.g. the load balancer was deleted out of band: ensure checks and repairs all of it
      log.info("updating backends failed ({}); ensuring the whole load balancer", e.getMessage());
      applied.remove(key);
      return ensureBalancer(key, service, plan);
    }
    applied.put(key, Applied.of(plan, service));
    announced.put(key, plan);
    // upstream's words; the same message on every node change bumps one Event's count per Service
    events.normal(service, ServiceEvents.UPDATED, "Updated load balancer with new hosts");
    return Outcome.DONE;
  }

  private static String annotation(Service service, String name) {
    Map<String, String> annotations = service.getMetadata().getAnnotations();
    return annotations == null ? null : annotations.get(name);
  }

  private Outcome cleanup(String key, Service service) {
    LoadBalancerRef ref = Planner.ref(service, plannerSettings);
    boolean retain = Planner.reclaimPolicy(service, plannerSettings) == ReclaimPolicy.Retain;
    List<String> addresses = IngressStatus.addressesOf(service);
    try {
      if (retain && !provider.checkedCapabilities().retain()) {
        retain = false;
        events.warning(
            service,
            ServiceEvents.DELETE_FAILED,
            "The provider cannot keep an address after its Service, so "
                + Planner.RECLAIM_POLICY
                + ": Retain is not honoured: the load balancer and its address are deleted");
      }
    } catch (ProviderException e) {
      return new Outcome.Failed(e.getMessage()); // the provider is not ready: retried
    }
    events.normal(
        service,
        ServiceEvents.DELETING,
        retain
            ? "Deleting load balancer, keeping its address (" + Planner.RECLAIM_POLICY + ": Retain)"
            : "Deleting load balancer");
    try {
      if (retain) {
        provider.ensureRetained(ref);
      } else {
        provider.ensureDeleted(ref);
      }
    } catch (ProviderException.Throttled t) {
      log.info("deleting: throttled, retrying in {}", t.retryAfter());
      return new Outcome.RequeueAfter(t.retryAfter());
    } catch (ProviderException e) {
      // whatever the class, a cleanup is retried until it succeeds: a terminating Service must
      // never hang on Ferry's finalizer
      events.warning(
          service, ServiceEvents.DELETE_FAILED, "Error deleting load balancer: " + e.getMessage());
      status.write(
          service,
          Optional.empty(),
          StatusWriter.condition(
              Ready.no(Ready.DELETING, "Deleting the load balancer failed: " + e.getMessage())));
      return new Outcome.Failed(e.getMessage());
    }
    forget(key);
    log.info("deleted load balancer");
    if (service.getMetadata().getDeletionTimestamp() == null) {
      // still there (type or class changed): no address, no condition of Ferry's
      service = status.clear(service);
    }
    ownership.set(key, service, false);
    events.normal(
        service,
        ServiceEvents.DELETED,
        retain && !addresses.isEmpty()
            ? "Deleted load balancer; its address "
                + String.join(", ", addresses)
                + " is retained for "
                + key
                + " (claim it with "
                + Planner.CLAIM_RETAINED
                + ": \"true\" or spec.loadBalancerIP; list it with ferry gc)"
            : "Deleted load balancer");
    return Outcome.DONE;
  }

  private void forget(String key) {
    claims.forget(key);
    ownership.forget(key);
    checked.remove(key);
    applied.remove(key);
    announced.remove(key);
    awaitingAddress.remove(key);
    resyncDue.remove(key);
  }
}
