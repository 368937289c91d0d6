package dev.ferry.controller;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.ferry.controller.NodePortAllocator.AllocationException;
import dev.ferry.controller.NodePortAllocator.Failure;
import io.fabric8.kubernetes.api.model.Service;
import io.fabric8.kubernetes.api.model.ServiceBuilder;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

class NodePortAllocatorTest {

  private final NodePortAllocator allocator = new NodePortAllocator(PortRange.DEFAULT);

  @Test
  @DisplayName("a specific port is taken once; its owner may take it again, nobody else")
  void specificPort() throws Exception {
    allocator.allocate(30080, "a");
    allocator.allocate(30080, "a");
    assertThatThrownBy(() -> allocator.allocate(30080, "b"))
        .isInstanceOfSatisfying(
            AllocationException.class, e -> assertThat(e.failure()).isEqualTo(Failure.TAKEN));
    assertThat(allocator.ownerOf(30080)).isEqualTo("a");
  }

  @Test
  @DisplayName("a port outside the range is refused as out of range")
  void outOfRange() {
    assertThatThrownBy(() -> allocator.allocate(80, "a"))
        .isInstanceOfSatisfying(
            AllocationException.class,
            e -> assertThat(e.failure()).isEqualTo(Failure.OUT_OF_RANGE));
  }

  @Test
  @DisplayName("all 2,768 ports go to concurrent allocations with no port handed out twice")
  void concurrentAllocationsFillTheRangeWithoutDuplicates() throws Exception {
    int size = PortRange.DEFAULT.size();
    assertThat(size).isEqualTo(2768);
    List<Integer> ports = Collections.synchronizedList(new ArrayList<>());
    try (ExecutorService pool = Executors.newFixedThreadPool(8)) {
      List<Future<?>> futures = new ArrayList<>();
      for (int i = 0; i < size; i++) {
        String owner = "svc-" + i;
        futures.add(pool.submit(() -> ports.add(allocator.allocateNext(owner))));
      }
      for (Future<?> f : futures) {
        f.get();
      }
    }
    assertThat(ports).hasSize(size);
    assertThat(new HashSet<>(ports)).hasSize(size);
    assertThat(ports).allMatch(PortRange.DEFAULT::contains);
    assertThat(allocator.allocatedCount()).isEqualTo(size);
    assertThatThrownBy(() -> allocator.allocateNext("one-more"))
        .isInstanceOfSatisfying(
            AllocationException.class, e -> assertThat(e.failure()).isEqualTo(Failure.FULL));
  }

  @Test
  @DisplayName("several ports for one Service are taken all together or not at all")
  void allOrNone() throws Exception {
    NodePortAllocator small = new NodePortAllocator(new PortRange(30000, 30002));
    small.allocate(30001, "other");
    assertThatThrownBy(() -> small.allocateNext("svc", 3)).isInstanceOf(AllocationException.class);
    assertThat(small.allocatedCount()).isEqualTo(1);
    assertThat(small.allocateNext("svc", 2)).containsExactlyInAnyOrder(30000, 30002);
  }

  @Test
  @DisplayName("release and releaseAll free ports for reuse")
  void release() throws Exception {
    allocator.allocate(30001, "a");
    allocator.allocate(30002, "a");
    allocator.allocate(30003, "b");
    allocator.releaseAll("a");
    assertThat(allocator.isAllocated(30001)).isFalse();
    assertThat(allocator.isAllocated(30003)).isTrue();
    allocator.release(30003);
    assertThat(allocator.allocatedCount()).isZero();
  }

  @Test
  @DisplayName("a port marked taken (the API server said so) is never handed out")
  void markTaken() throws Exception {
    NodePortAllocator tiny = new NodePortAllocator(new PortRange(30000, 30001));
    tiny.markTaken(30000);
    assertThat(tiny.allocateNext("svc")).isEqualTo(30001);
    assertThat(tiny.ownerOf(30000)).isNull();
  }

  @Test
  @DisplayName(
      "the state is rebuilt from NodePort and LoadBalancer Services, health-check ports included")
  void rebuildFromServices() {
    NodePortAssigner assigner = new NodePortAssigner(null, allocator);
    assigner.observe(service("np", "NodePort", "Cluster", null, 30100));
    assigner.observe(service("lb", "LoadBalancer", "Local", 30201, 30200));
    assigner.observe(service("cip", "ClusterIP", "Cluster", null, 30300));
    Set<Integer> taken = new HashSet<>();
    for (int p = 30000; p <= 32767; p++) {
      if (allocator.isAllocated(p)) {
        taken.add(p);
      }
    }
    assertThat(taken).containsExactlyInAnyOrder(30100, 30200, 30201);
    assertThat(allocator.ownerOf(30201)).isEqualTo("uid-lb");
  }

  static Service service(String name, String type, String policy, Integer hcnp, int nodePort) {
    return new ServiceBuilder()
        .withNewMetadata()
        .withName(name)
        .withNamespace("default")
        .withUid("uid-" + name)
        .endMetadata()
        .withNewSpec()
        .withType(type)
        .withExternalTrafficPolicy(policy)
        .withHealthCheckNodePort(hcnp)
        .addNewPort()
        .withPort(80)
        .withProtocol("TCP")
        .withNodePort(nodePort)
        .endPort()
        .endSpec()
        .build();
  }
}
