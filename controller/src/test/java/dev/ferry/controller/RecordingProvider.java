package dev.ferry.controller;

import dev.ferry.spi.Backend;
import dev.ferry.spi.Capabilities;
import dev.ferry.spi.LoadBalancerPlan;
import dev.ferry.spi.LoadBalancerProvider;
import dev.ferry.spi.LoadBalancerRef;
import dev.ferry.spi.LoadBalancerStatus;
import dev.ferry.spi.Protocol;
import dev.ferry.spi.ProviderException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Supplier;

/**
 * A stateful in-memory provider for component tests: it keeps the load balancers it "made" and the
 * calls it got, and can be told to fail the next calls. Tests assert the end state.
 */
class RecordingProvider implements LoadBalancerProvider {

  record Call(String operation, String service) {}

  private final Map<String, LoadBalancerPlan> balancers = new LinkedHashMap<>();
  private final List<Call> calls = new ArrayList<>();
  private final AtomicInteger failuresLeft = new AtomicInteger();
  private volatile Supplier<? extends Throwable> failure =
      () -> new ProviderException.Transient("simulated cloud outage", null);
  private final AtomicInteger addressesWithheld = new AtomicInteger();
  private final AtomicInteger nextIp = new AtomicInteger(1);
  private final Map<String, String> ips = new LinkedHashMap<>();
  private final Map<String, CountDownLatch> hangs = new ConcurrentHashMap<>();
  private final AtomicInteger inCloud = new AtomicInteger();
  private final AtomicInteger mostInCloud = new AtomicInteger();
  private volatile Duration pace = Duration.ZERO;
  private volatile List<LoadBalancerStatus.PortStatus> portErrors = List.of();

  static final Capabilities CAPABILITIES =
      Capabilities.builder()
          .protocols(Protocol.TCP, Protocol.UDP)
          .mixedProtocols(true)
          .maxListeners(10)
          .sourceRanges(true)
          .clientIpAffinity(true)
          .build();

  /** The next {@code n} ensure/updateBackends/ensureDeleted calls fail as transient. */
  void failNext(int n) {
    failNext(n, () -> new ProviderException.Transient("simulated cloud outage", null));
  }

  /**
   * The next {@code n} ensure/updateBackends/ensureDeleted calls throw what {@code thrown} makes:
   * any {@link ProviderException}, a {@link RuntimeException} or an {@link Error}, as a broken
   * plugin might.
   */
  void failNext(int n, Supplier<? extends Throwable> thrown) {
    failure = thrown;
    failuresLeft.set(n);
  }

  /** The next {@code n} ensure/find answers carry no address yet, as a cloud still assigning. */
  void withholdAddress(int n) {
    addressesWithheld.set(n);
  }

  /** Every status answered from now on carries these per-port errors (none: an empty list). */
  void portErrors(List<LoadBalancerStatus.PortStatus> errors) {
    portErrors = List.copyOf(errors);
  }

  /** Deletes the Service's load balancer behind the controller's back. */
  synchronized void loseBalancer(String serviceKey) {
    balancers.values().removeIf(p -> p.ref().serviceKey().equals(serviceKey));
  }

  /**
   * find and ensure calls for {@code serviceKey} block until the returned latch is counted down.
   */
  CountDownLatch hang(String serviceKey) {
    return hangs.computeIfAbsent(serviceKey, k -> new CountDownLatch(1));
  }

  /** Each find and ensure takes {@code d} more, as a cloud's latency (interrupts do not end it). */
  void pace(Duration d) {
    pace = d;
  }

  /** The most find and ensure calls that were in the cloud at once. */
  int mostInCloud() {
    return mostInCloud.get();
  }

  synchronized List<Call> calls() {
    return List.copyOf(calls);
  }

  synchronized List<Call> calls(String operation) {
    return calls.stream().filter(c -> c.operation().equals(operation)).toList();
  }

  synchronized Optional<LoadBalancerPlan> balancer(String serviceKey) {
    return balancers.values().stream()
        .filter(p -> p.ref().serviceKey().equals(serviceKey))
        .findFirst();
  }

  @Override
  public Capabilities capabilities() {
    return CAPABILITIES;
  }

  @Override
  public Optional<LoadBalancerStatus> find(LoadBalancerRef ref) {
    enterCloud(ref);
    try {
      synchronized (this) {
        calls.add(new Call("find", ref.serviceKey()));
        return balancers.containsKey(ref.uid()) ? Optional.of(status(ref)) : Optional.empty();
      }
    } finally {
      inCloud.decrementAndGet();
    }
  }

  @Override
  public LoadBalancerStatus ensure(LoadBalancerPlan plan) throws ProviderException {
    enterCloud(plan.ref());
    try {
      synchronized (this) {
        calls.add(new Call("ensure", plan.ref().serviceKey()));
        CAPABILITIES.requireSupported(plan);
        maybeFail();
        balancers.put(plan.ref().uid(), plan);
        return status(plan.ref());
      }
    } finally {
      inCloud.decrementAndGet();
    }
  }

  /** In step: a balancer exists with exactly the plan (addresses aside). */
  @Override
  public synchronized Map<LoadBalancerRef, LoadBalancerStatus> inStep(
      List<LoadBalancerPlan> plans) {
    Map<LoadBalancerRef, LoadBalancerStatus> out = new LinkedHashMap<>();
    for (LoadBalancerPlan plan : plans) {
      calls.add(new Call("inStep", plan.ref().serviceKey()));
      LoadBalancerPlan have = balancers.get(plan.ref().uid());
      if (have != null
          && have.withCurrentAddresses(List.of()).equals(plan.withCurrentAddresses(List.of()))) {
        out.put(plan.ref(), status(plan.ref()));
      }
    }
    return out;
  }

  @Override
  public synchronized void updateBackends(LoadBalancerRef ref, List<Backend> backends)
      throws ProviderException {
    calls.add(new Call("updateBackends", ref.serviceKey()));
    maybeFail();
    LoadBalancerPlan plan = balancers.get(ref.uid());
    if (plan == null) {
      throw new ProviderException.Transient("no load balancer for " + ref.serviceKey(), null);
    }
    balancers.put(ref.uid(), plan.withBackends(backends));
  }

  @Override
  public synchronized void ensureDeleted(LoadBalancerRef ref) throws ProviderException {
    calls.add(new Call("ensureDeleted", ref.serviceKey()));
    maybeFail();
    balancers.remove(ref.uid());
  }

  @Override
  public synchronized List<LoadBalancerRef> listOwned(String clusterName) {
    return balancers.values().stream()
        .map(LoadBalancerPlan::ref)
        .filter(r -> r.cluster().equals(clusterName))
        .toList();
  }

  private void maybeFail() throws ProviderException {
    if (failuresLeft.getAndUpdate(n -> Math.max(0, n - 1)) > 0) {
      switch (failure.get()) {
        case ProviderException e -> throw e;
        case RuntimeException e -> throw e;
        case Error e -> throw e;
        case Throwable t -> throw new IllegalStateException(t);
      }
    }
  }

  /**
   * A call goes into the cloud: counted, then blocked like a hung call while its Service's latch is
   * up, then the pace. Interrupts end neither; the caller leaves with {@code inCloud}'s decrement.
   */
  private void enterCloud(LoadBalancerRef ref) {
    mostInCloud.accumulateAndGet(inCloud.incrementAndGet(), Math::max);
    CountDownLatch latch = hangs.get(ref.serviceKey());
    boolean interrupted = false;
    while (latch != null && latch.getCount() > 0) {
      try {
        latch.await();
      } catch (InterruptedException e) {
        interrupted = true;
      }
    }
    for (long end = System.nanoTime() + pace.toNanos(); System.nanoTime() < end; ) {
      try {
        Thread.sleep(Duration.ofNanos(end - System.nanoTime()));
      } catch (InterruptedException e) {
        interrupted = true;
      }
    }
    if (interrupted) {
      Thread.currentThread().interrupt();
    }
  }

  private LoadBalancerStatus status(LoadBalancerRef ref) {
    if (addressesWithheld.getAndUpdate(n -> Math.max(0, n - 1)) > 0) {
      return new LoadBalancerStatus(List.of());
    }
    String ip = ips.computeIfAbsent(ref.uid(), u -> "192.0.2." + nextIp.getAndIncrement());
    return new LoadBalancerStatus(
        List.of(
            new LoadBalancerStatus.Ingress(
                Optional.of(ip),
                Optional.empty(),
                Optional.of(LoadBalancerStatus.IpMode.VIP),
                portErrors)));
  }
}
