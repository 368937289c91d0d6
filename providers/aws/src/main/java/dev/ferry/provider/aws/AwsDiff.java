package dev.ferry.provider.aws;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import software.amazon.awssdk.services.elasticloadbalancingv2.model.Listener;
import software.amazon.awssdk.services.elasticloadbalancingv2.model.TargetGroup;

/**
 * Desired against actual, as pure functions of what AWS answered and what the Service wants: no
 * calls, so each is tested by value.
 */
final class AwsDiff {

  private AwsDiff() {}

  /** One change to an NLB's listeners. */
  record ListenerChange(Kind kind, int port, String protocol, String targetGroupArn, String arn) {
    enum Kind {
      CREATE,
      MODIFY,
      DELETE
    }
  }

  /** A listener wanted: its port, protocol (TCP, UDP, TCP_UDP) and target group. */
  record WantedListener(int port, String protocol, String targetGroupArn) {}

  /**
   * The changes that make {@code actual} exactly {@code wanted}: a missing port is created, one
   * with another protocol or target group modified in place, one not wanted deleted.
   */
  static List<ListenerChange> listeners(List<Listener> actual, List<WantedListener> wanted) {
    Map<Integer, Listener> byPort = new HashMap<>();
    actual.forEach(l -> byPort.put(l.port(), l));
    List<ListenerChange> changes = new ArrayList<>();
    for (WantedListener w : wanted) {
      Listener existing = byPort.remove(w.port());
      if (existing == null) {
        changes.add(
            new ListenerChange(
                ListenerChange.Kind.CREATE, w.port(), w.protocol(), w.targetGroupArn(), null));
      } else if (!w.protocol().equals(existing.protocolAsString())
          || existing.defaultActions().size() != 1
          || !w.targetGroupArn().equals(existing.defaultActions().get(0).targetGroupArn())) {
        changes.add(
            new ListenerChange(
                ListenerChange.Kind.MODIFY,
                w.port(),
                w.protocol(),
                w.targetGroupArn(),
                existing.listenerArn()));
      }
    }
    byPort.values().stream()
        .sorted((a, b) -> Integer.compare(a.port(), b.port()))
        .forEach(
            l ->
                changes.add(
                    new ListenerChange(
                        ListenerChange.Kind.DELETE,
                        l.port(),
                        l.protocolAsString(),
                        null,
                        l.listenerArn())));
    return changes;
  }

  /** Whether a target group's health check is exactly {@code hc}. */
  static boolean healthCheckMatches(TargetGroup tg, AwsOptions.NlbHealthCheck hc) {
    return hc.protocol().equals(tg.healthCheckProtocolAsString())
        && hc.port().equals(tg.healthCheckPort())
        && (hc.path().isEmpty() || hc.path().equals(tg.healthCheckPath()))
        && tg.healthCheckIntervalSeconds() != null
        && tg.healthCheckIntervalSeconds() == hc.intervalSeconds()
        && tg.healthCheckTimeoutSeconds() != null
        && tg.healthCheckTimeoutSeconds() == hc.timeoutSeconds()
        && tg.healthyThresholdCount() != null
        && tg.healthyThresholdCount() == hc.healthyThreshold()
        && tg.unhealthyThresholdCount() != null
        && tg.unhealthyThresholdCount() == hc.unhealthyThreshold();
  }

  /**
   * The attributes (or tags) to set: those {@code wanted} names whose value differs from {@code
   * actual}. Those not named are left as they are (an annotation removed does not reset them).
   */
  static Map<String, String> attributeChanges(
      Map<String, String> actual, Map<String, String> wanted) {
    Map<String, String> changes = new java.util.TreeMap<>();
    wanted.forEach(
        (k, v) -> {
          if (!v.equals(actual.get(k))) {
            changes.put(k, v);
          }
        });
    return changes;
  }
}
