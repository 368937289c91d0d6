package dev.ferry.spi;

import static org.assertj.core.api.Assertions.assertThat;

import java.lang.reflect.Constructor;
import java.lang.reflect.RecordComponent;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * The records a plan holds write their equality out (see {@code Backend.equals}); it must still be
 * a record's: equal exactly when every component is, with equal hash codes. Each component is
 * varied on its own, so a component the written-out equality forgets fails here.
 */
class EqualityTest {

  static Stream<Record> records() {
    return Stream.of(
        new Backend(
            "node-1",
            "aws:///eu-west-1a/i-1",
            "10.0.0.1",
            "eu-west-1a",
            java.util.List.of("10.0.0.1", "fd00::a")),
        new Listener("http", Protocol.TCP, 80, 30080),
        new LoadBalancerRef("prod", "shop", "web", "uid-1"),
        new HealthCheck(
            HealthCheck.Type.TCP,
            0,
            "/healthz",
            Duration.ofSeconds(10),
            Duration.ofSeconds(5),
            2,
            3),
        new SessionAffinity(false, Duration.ofSeconds(10800)));
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("records")
  @DisplayName("equal exactly when every component is")
  void componentWise(Record base) throws Exception {
    RecordComponent[] components = base.getClass().getRecordComponents();
    Object[] values = valuesOf(base);
    Record same = make(base, values.clone());
    assertThat(same).isNotSameAs(base).isEqualTo(base).hasSameHashCodeAs(base);
    for (int i = 0; i < components.length; i++) {
      Object[] changed = values.clone();
      changed[i] = other(values[i]);
      assertThat(make(base, changed))
          .as("%s differing in %s", base.getClass().getSimpleName(), components[i].getName())
          .isNotEqualTo(base);
    }
    assertThat(base).isNotEqualTo(null).isNotEqualTo("not a " + base.getClass().getSimpleName());
  }

  @Test
  @DisplayName("plans: equal backend lists in different instances, and any one backend apart")
  void plans() {
    LoadBalancerRef ref = new LoadBalancerRef("prod", "shop", "web", "uid-1");
    List<Listener> listeners = List.of(new Listener("http", Protocol.TCP, 80, 30080));
    HealthCheck check =
        new HealthCheck(
            HealthCheck.Type.TCP, 0, "", Duration.ofSeconds(10), Duration.ofSeconds(5), 2, 3);
    List<Backend> nodes = new ArrayList<>();
    for (int i = 0; i < 100; i++) {
      nodes.add(new Backend("node-" + i, "", "10.0.0." + i, ""));
    }
    LoadBalancerPlan plan = LoadBalancerPlan.builder(ref, listeners, check).backends(nodes).build();
    LoadBalancerPlan copy =
        LoadBalancerPlan.builder(ref, listeners, check).backends(new ArrayList<>(nodes)).build();
    assertThat(copy.backends()).isNotSameAs(plan.backends());
    assertThat(copy).isEqualTo(plan).hasSameHashCodeAs(plan);

    List<Backend> lastChanged = new ArrayList<>(nodes);
    lastChanged.set(99, new Backend("node-99", "", "10.0.1.99", ""));
    assertThat(plan.withBackends(lastChanged)).isNotEqualTo(plan);
    assertThat(plan.withBackends(nodes.subList(0, 99))).isNotEqualTo(plan);
    assertThat(plan.toBuilder().tags(Map.of("team", "a")).build()).isNotEqualTo(plan);
    assertThat(plan.toBuilder().scheme(Scheme.INTERNAL).build()).isNotEqualTo(plan);
  }

  private static Object[] valuesOf(Record r) throws Exception {
    RecordComponent[] components = r.getClass().getRecordComponents();
    Object[] values = new Object[components.length];
    for (int i = 0; i < components.length; i++) {
      values[i] = components[i].getAccessor().invoke(r);
    }
    return values;
  }

  private static Record make(Record like, Object[] values) throws Exception {
    Class<?>[] types =
        Arrays.stream(like.getClass().getRecordComponents())
            .map(RecordComponent::getType)
            .toArray(Class<?>[]::new);
    Constructor<?> canonical = like.getClass().getDeclaredConstructor(types);
    return (Record) canonical.newInstance(values);
  }

  /** A different value of the same type that the record's checks still accept. */
  private static Object other(Object value) {
    return switch (value) {
      case String s -> s + "x";
      case Integer i -> i + 1;
      case Boolean b -> !b;
      case Duration d -> d.plusSeconds(1);
      case java.util.List<?> l -> java.util.List.of("fd00::1"); // a Backend's addresses
      case Enum<?> e -> {
        Object[] constants = e.getDeclaringClass().getEnumConstants();
        yield constants[(e.ordinal() + 1) % constants.length];
      }
      default -> throw new IllegalArgumentException("no other value for " + value);
    };
  }
}
