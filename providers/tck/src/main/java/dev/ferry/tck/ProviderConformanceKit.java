package dev.ferry.tck;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.ferry.spi.AddressKind;
import dev.ferry.spi.Backend;
import dev.ferry.spi.Capabilities;
import dev.ferry.spi.HealthCheck;
import dev.ferry.spi.Listener;
import dev.ferry.spi.LoadBalancerPlan;
import dev.ferry.spi.LoadBalancerProvider;
import dev.ferry.spi.LoadBalancerRef;
import dev.ferry.spi.LoadBalancerStatus;
import dev.ferry.spi.Protocol;
import dev.ferry.spi.ProviderException;
import dev.ferry.spi.Scheme;
import java.net.InetAddress;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Nested;
import org.junit.jupiter.api.Test;

/**
 * The provider contract as executable sentences. A provider's test subclasses this kit, says how to
 * make a provider instance, which backends to use and how to look at the cloud, and inherits every
 * contract test. Each test uses a Service UID of its own and deletes what it made.
 *
 * <p>{@link #newProvider} wires {@link #cloudCalls} into the provider's cloud client, so that the
 * kit can check that repeated calls change nothing and crash the provider after each change in
 * turn. Cases for a capability the provider does not declare are skipped, with the reason.
 */
public abstract class ProviderConformanceKit extends KitFamilies {

  @Nested
  @DisplayName("changes in place")
  class Changes {

    @Test
    @DisplayName("listeners added and removed: the cloud has exactly the plan's listeners")
    void listenersAddedAndRemoved() throws Exception {
      LoadBalancerRef ref = newRef();
      Listener http = new Listener("http", Protocol.TCP, servicePort(0), 30080);
      Listener admin = new Listener("admin", Protocol.TCP, servicePort(1), 30081);
      LoadBalancerStatus first = provider.ensure(plan(ref, backends(2), http));
      assertThat(cloud().listeners(ref)).isEqualTo(ports(http));
      provider.ensure(plan(ref, backends(2), http, admin));
      assertThat(cloud().listeners(ref)).isEqualTo(ports(http, admin));
      LoadBalancerStatus last = provider.ensure(plan(ref, backends(2), admin));
      assertThat(cloud().listeners(ref)).isEqualTo(ports(admin));
      assertThat(cloud().loadBalancerCount(ref)).isEqualTo(1);
      assertThat(cloud().registeredBackends(ref)).isEqualTo(names(backends(2)));
      assertThat(last.ingress())
          .as("the address survives listener changes")
          .isEqualTo(first.ingress());
    }

    @Test
    @DisplayName("a health-check change reaches the cloud")
    void healthCheckChange() throws Exception {
      Capabilities caps = provider.capabilities();
      LoadBalancerRef ref = newRef();
      LoadBalancerPlan tcp = plan(ref, backends(2));
      provider.ensure(tcp);
      assertThat(cloud().healthProbe(ref))
          .isEqualTo(
              new CloudView.Probe(
                  HealthCheck.Type.TCP, HealthCheck.TRAFFIC_PORT, "", Duration.ofSeconds(10)));
      Duration interval =
          clamp(
              Duration.ofSeconds(30), caps.minHealthCheckInterval(), caps.maxHealthCheckInterval());
      HealthCheck http =
          new HealthCheck(
              HealthCheck.Type.HTTP, 10256, "/healthz", interval, Duration.ofSeconds(5), 2, 3);
      provider.ensure(tcp.toBuilder().healthCheck(http).build());
      assertThat(cloud().healthProbe(ref))
          .isEqualTo(new CloudView.Probe(HealthCheck.Type.HTTP, 10256, "/healthz", interval));
      assertThat(cloud().loadBalancerCount(ref)).isEqualTo(1);
    }

    @Test
    @DisplayName("a source-range change reaches the cloud, and back to open")
    void sourceRangeChange() throws Exception {
      assumeCapable(provider.capabilities().sourceRanges(), "source ranges");
      LoadBalancerRef ref = newRef();
      LoadBalancerPlan open = plan(ref, backends(1));
      provider.ensure(open);
      assertThat(cloud().sourceRanges(ref)).containsExactly("0.0.0.0/0");
      List<String> narrow = List.of("198.51.100.0/24", "203.0.113.0/24");
      provider.ensure(open.toBuilder().sourceRanges(narrow).build());
      assertThat(cloud().sourceRanges(ref)).containsExactlyInAnyOrderElementsOf(narrow);
      provider.ensure(open);
      assertThat(cloud().sourceRanges(ref)).containsExactly("0.0.0.0/0");
    }

    @Test
    @DisplayName("a UDP listener is made as UDP")
    void udp() throws Exception {
      assumeCapable(provider.capabilities().protocols().contains(Protocol.UDP), "UDP");
      LoadBalancerRef ref = newRef();
      Listener dns = new Listener("dns", Protocol.UDP, servicePort(4), 30053);
      provider.ensure(plan(ref, backends(2), dns));
      assertThat(cloud().listeners(ref)).isEqualTo(ports(dns));
      assertThat(cloud().registeredBackends(ref)).isEqualTo(names(backends(2)));
    }

    @Test
    @DisplayName("TCP and UDP on one load balancer, on the same port number too")
    void mixedProtocols() throws Exception {
      Capabilities caps = provider.capabilities();
      assumeCapable(
          caps.mixedProtocols() && caps.protocols().contains(Protocol.UDP), "mixed protocols");
      LoadBalancerRef ref = newRef();
      // one port number for both protocols gets one NodePort number for both (as Kubernetes allows)
      Listener tcp = new Listener("dns-tcp", Protocol.TCP, servicePort(5), 30054);
      Listener udp = new Listener("dns-udp", Protocol.UDP, servicePort(5), 30054);
      Listener web = new Listener("web", Protocol.TCP, servicePort(6), 30056);
      provider.ensure(plan(ref, backends(2), tcp, udp, web));
      assertThat(cloud().listeners(ref)).isEqualTo(ports(tcp, udp, web));
      provider.ensure(plan(ref, backends(2), udp));
      assertThat(cloud().listeners(ref)).isEqualTo(ports(udp));
    }

    @Test
    @DisplayName("a scheme change is replaced or refused with a reason, never half made")
    void schemeChange() throws Exception {
      assumeCapable(provider.capabilities().internal(), "an internal scheme");
      LoadBalancerRef ref = newRef();
      LoadBalancerPlan external = plan(ref, backends(2));
      provider.ensure(external);
      assertThat(cloud().scheme(ref)).isEqualTo(Scheme.EXTERNAL);
      LoadBalancerPlan internal = external.toBuilder().scheme(Scheme.INTERNAL).build();
      try {
        LoadBalancerStatus status = provider.ensure(internal);
        assertThat(cloud().scheme(ref)).as("replaced").isEqualTo(Scheme.INTERNAL);
        assertThat(status.ingress()).isNotEmpty();
      } catch (ProviderException.InvalidPlan refused) {
        assertThat(refused.violations()).as("refused with the field and the fix").isNotEmpty();
        assertThat(cloud().scheme(ref)).as("refused: untouched").isEqualTo(Scheme.EXTERNAL);
      }
      assertThat(cloud().loadBalancerCount(ref)).isEqualTo(1);
      assertThat(cloud().registeredBackends(ref)).isEqualTo(names(backends(2)));
    }
  }

  @Nested
  @DisplayName("status")
  class StatusShape {

    @Test
    @DisplayName("every ingress is an IP literal or a hostname without ipMode, as capabilities say")
    void shape() throws Exception {
      AddressKind kind = provider.capabilities().addressKind();
      LoadBalancerStatus status = provider.ensure(plan(newRef(), backends(1)));
      assertThat(status.ingress()).isNotEmpty();
      for (LoadBalancerStatus.Ingress in : status.ingress()) {
        if (kind == AddressKind.HOSTNAME) {
          assertThat(in.hostname()).isPresent();
          assertThat(in.ipMode()).as("the API server refuses ipMode on a hostname").isEmpty();
          assertThat(in.hostname().get()).matches("[a-z0-9]([a-z0-9.-]*[a-z0-9])?");
        } else {
          assertThat(in.ip()).isPresent();
          String ip = in.ip().get();
          assertThat(ip).matches("[0-9.]+|[0-9a-fA-F:]+");
          assertThat(InetAddress.getByName(ip).getHostAddress()).isNotEmpty();
        }
      }
      status.backendHealth().ifPresent(h -> assertThat(h.total()).isLessThanOrEqualTo(1));
    }
  }

  @Nested
  @DisplayName("concurrency")
  class Concurrency {

    @Test
    @DisplayName("four Services ensured at once each get one complete load balancer")
    void concurrentServices() throws Exception {
      List<LoadBalancerRef> refs = List.of(newRef(), newRef(), newRef(), newRef());
      List<Backend> backends = backends(2);
      ExecutorService pool = Executors.newFixedThreadPool(refs.size());
      try {
        List<Future<LoadBalancerStatus>> results = new ArrayList<>();
        for (int i = 0; i < refs.size(); i++) {
          // NodePorts are unique in a cluster
          Listener listener = new Listener("http", Protocol.TCP, servicePort(0), 30090 + i);
          LoadBalancerPlan plan = plan(refs.get(i), backends, listener);
          results.add(pool.submit(() -> provider.ensure(plan)));
        }
        Set<Object> addresses = new HashSet<>();
        for (int i = 0; i < refs.size(); i++) {
          LoadBalancerStatus status = results.get(i).get(120, TimeUnit.SECONDS);
          assertThat(status.ingress()).isNotEmpty();
          addresses.add(status.ingress());
          assertThat(cloud().loadBalancerCount(refs.get(i))).isEqualTo(1);
          assertThat(cloud().registeredBackends(refs.get(i))).isEqualTo(names(backends));
        }
        assertThat(addresses).as("each Service its own address").hasSize(refs.size());
      } finally {
        pool.shutdownNow();
      }
    }
  }

  @Nested
  @DisplayName("repeats")
  class Repeats {

    @Test
    @DisplayName("repeated ensure, updateBackends, find and inStep make no mutating call")
    void noMutationOnRepeat() throws Exception {
      LoadBalancerRef ref = newRef();
      List<Backend> backends = backends(2);
      LoadBalancerPlan plan = plan(ref, backends);
      int before = cloudCalls.count();
      LoadBalancerStatus status = provider.ensure(plan);
      assertThat(cloudCalls.count())
          .as("the test's CloudCalls hook sees the provider's changes (is it wired?)")
          .isGreaterThan(before);
      List<String> addresses = new ArrayList<>();
      status.ingress().forEach(i -> addresses.add(i.ip().or(i::hostname).orElseThrow()));
      int settled = cloudCalls.count();
      provider.ensure(plan);
      provider.ensure(plan.withCurrentAddresses(addresses));
      provider.updateBackends(ref, backends);
      provider.find(ref);
      provider.inStep(List.of(plan.withCurrentAddresses(addresses)));
      try (LoadBalancerProvider restarted = newProvider()) {
        restarted.ensure(plan.withCurrentAddresses(addresses));
      }
      assertThat(cloudCalls.since(settled)).as("mutating calls on repeat").isEmpty();
    }
  }

  @Nested
  @DisplayName("crash safety")
  class CrashSafety {

    private interface Step {
      void run(LoadBalancerProvider p) throws Exception;
    }

    /** How many mutating calls {@code step} makes from a clean run. */
    private int mutationsOf(Step step) throws Exception {
      int before = cloudCalls.count();
      step.run(provider);
      return cloudCalls.count() - before;
    }

    /** A two-port plan whose NodePorts are the {@code k}-th pair (NodePorts are unique). */
    private LoadBalancerPlan twoPorts(LoadBalancerRef ref, List<Backend> backends, int k) {
      return plan(
          ref,
          backends,
          new Listener("http", Protocol.TCP, servicePort(7), 31000 + 2 * k),
          new Listener("admin", Protocol.TCP, servicePort(8), 31001 + 2 * k));
    }

    private void crashingRun(int n, Step step) throws Exception {
      LoadBalancerProvider doomed = newProvider();
      cloudCalls.crashAfter(n);
      assertThatThrownBy(() -> step.run(doomed))
          .as("crash after mutating call %d", n)
          .isInstanceOf(SimulatedCrash.class);
      cloudCalls.disarm();
      try {
        doomed.close();
      } catch (RuntimeException | Error ignored) {
        // a process that died releases nothing
      }
    }

    @Test
    @DisplayName("ensure crashed after each of its mutating calls converges on the next run")
    void ensureCrashPoints() throws Exception {
      List<Backend> backends = backends(2);
      // a first load balancer makes what the cluster's share (a common group, a daemon): the
      // second one's calls are those every later Service makes
      provider.ensure(twoPorts(newRef(), backends, 99));
      int calls = mutationsOf(p -> p.ensure(twoPorts(newRef(), backends, 0)));
      assertThat(calls).as("mutating calls of one ensure (is CloudCalls wired?)").isPositive();
      for (int n = 1; n <= calls; n++) {
        LoadBalancerRef ref = newRef();
        LoadBalancerPlan plan = twoPorts(ref, backends, n);
        crashingRun(n, p -> p.ensure(plan));
        try (LoadBalancerProvider restarted = newProvider()) {
          LoadBalancerStatus status = restarted.ensure(plan);
          assertThat(status.ingress()).as("crash point %d", n).isNotEmpty();
          assertThat(cloud().loadBalancerCount(ref)).as("crash point %d", n).isEqualTo(1);
          assertThat(cloud().listeners(ref))
              .as("crash point %d", n)
              .isEqualTo(ports(plan.listeners().toArray(Listener[]::new)));
          assertThat(cloud().registeredBackends(ref))
              .as("crash point %d", n)
              .isEqualTo(names(backends));
          int settled = cloudCalls.count();
          restarted.ensure(plan);
          assertThat(cloudCalls.since(settled)).as("crash point %d: converged", n).isEmpty();
          restarted.ensureDeleted(ref);
          assertThat(cloud().ownedResources(ref)).as("crash point %d: deleted", n).isZero();
        }
      }
    }

    @Test
    @DisplayName(
        "ensureDeleted crashed after each of its mutating calls leaves nothing on the next")
    void deleteCrashPoints() throws Exception {
      List<Backend> backends = backends(2);
      LoadBalancerRef probe = newRef();
      provider.ensure(twoPorts(probe, backends, 0));
      int calls = mutationsOf(p -> p.ensureDeleted(probe));
      assertThat(calls).as("mutating calls of one delete (is CloudCalls wired?)").isPositive();
      for (int n = 1; n <= calls; n++) {
        LoadBalancerRef ref = newRef();
        provider.ensure(twoPorts(ref, backends, n));
        crashingRun(n, p -> p.ensureDeleted(ref));
        try (LoadBalancerProvider restarted = newProvider()) {
          restarted.ensureDeleted(ref);
          assertThat(cloud().ownedResources(ref)).as("crash point %d", n).isZero();
          assertThat(restarted.find(ref)).as("crash point %d", n).isEmpty();
        }
      }
    }
  }
}
