package dev.ferry.provider.aws;

import dev.ferry.provider.aws.AwsApi.Bucket;
import dev.ferry.spi.AdoptionPreview;
import dev.ferry.spi.Backend;
import dev.ferry.spi.Listener;
import dev.ferry.spi.LoadBalancerPlan;
import dev.ferry.spi.LoadBalancerRef;
import dev.ferry.spi.PlanDiff;
import dev.ferry.spi.Protocol;
import dev.ferry.spi.ProviderException;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeSet;
import software.amazon.awssdk.services.elasticloadbalancingv2.model.LoadBalancer;
import software.amazon.awssdk.services.elasticloadbalancingv2.model.Tag;
import software.amazon.awssdk.services.elasticloadbalancingv2.model.TargetGroup;

/**
 * Adopting an NLB Ferry did not make (the in-tree controller's, a hand-made one), by its ARN or
 * name. The preview reads its listeners and target groups; the adoption tags it as the Service's,
 * remembering which tags Ferry added ({@value #TAG_ADOPTED}), and {@code ensure} then converges it:
 * Ferry's own target groups, the listeners moved to them in place (the NLB serves throughout). With
 * {@code Retain} it is given back: the tags Ferry added come off, and it serves on as it is.
 */
final class AwsAdoption {

  static final String TAG_ADOPTED = "ferry.dev/adopted";

  /** The prefix of the tags keeping what an adoption overwrote. */
  static final String WAS = "ferry.dev/was:";

  private static final String FIELD = "metadata.annotations[ferry.dev/adopt]";

  private final AwsContext aws;
  private final AwsRetained retained;

  AwsAdoption(AwsContext aws, AwsRetained retained) {
    this.aws = aws;
    this.retained = retained;
  }

  /** The NLB {@code id} names, free to adopt; refused, naming it, otherwise. */
  private LoadBalancer adoptable(String id, String cluster) throws ProviderException {
    Optional<LoadBalancer> found =
        id.startsWith("arn:")
            ? retained.byArn(id)
            : (id.matches("[A-Za-z0-9-]{1,32}")
                ? aws.describeLoadBalancers(List.of(id)).stream().findFirst()
                : Optional.empty());
    LoadBalancer lb =
        found.orElseThrow(
            () ->
                new ProviderException.InvalidPlan(
                    FIELD, "no NLB '" + id + "' exists to adopt (name it by its ARN or name)"));
    Map<String, String> tags = tagsOf(lb);
    if (tags.containsKey(AwsShape.TAG_UID) || AwsRetained.retained(tags)) {
      throw new ProviderException.InvalidPlan(
          FIELD,
          "NLB "
              + lb.loadBalancerName()
              + " is Ferry's ("
              + tags.getOrDefault(AwsShape.TAG_SERVICE_NAME, "?")
              + " in cluster "
              + tags.getOrDefault(AwsShape.TAG_CLUSTER, "?")
              + "), not one to adopt");
    }
    return lb;
  }

  AdoptionPreview preview(LoadBalancerPlan plan, String id, AwsOptions options)
      throws ProviderException {
    LoadBalancer lb = adoptable(id, plan.ref().cluster());
    var listeners =
        aws.api.call(
            Bucket.ELB_READ,
            "DescribeListeners",
            () ->
                aws.elb
                    .describeListeners(r -> r.loadBalancerArn(lb.loadBalancerArn()))
                    .listeners());
    Map<String, TargetGroup> groups = new LinkedHashMap<>();
    List<String> arns = new ArrayList<>();
    listeners.forEach(
        l ->
            l.defaultActions().stream()
                .filter(a -> a.targetGroupArn() != null)
                .forEach(a -> arns.add(a.targetGroupArn())));
    if (!arns.isEmpty()) {
      aws.api
          .call(
              Bucket.ELB_READ,
              "DescribeTargetGroups",
              () -> aws.elb.describeTargetGroups(r -> r.targetGroupArns(arns)).targetGroups())
          .forEach(g -> groups.put(g.targetGroupArn(), g));
    }
    List<Listener> have = new ArrayList<>();
    TreeSet<String> targets = new TreeSet<>();
    for (var l : listeners) {
      String tg =
          l.defaultActions().stream()
              .map(a -> a.targetGroupArn())
              .filter(a -> a != null)
              .findFirst()
              .orElse(null);
      TargetGroup g = tg == null ? null : groups.get(tg);
      int nodePort = g == null ? 0 : g.port();
      for (String proto : l.protocolAsString().split("_")) {
        if (proto.equals("TCP") || proto.equals("UDP")) {
          have.add(new Listener(proto.toLowerCase(), Protocol.valueOf(proto), l.port(), nodePort));
        }
      }
      if (tg != null) {
        aws.api
            .call(
                Bucket.ELB_READ,
                "DescribeTargetHealth",
                () ->
                    aws.elb
                        .describeTargetHealth(r -> r.targetGroupArn(tg))
                        .targetHealthDescriptions())
            .forEach(d -> targets.add(d.target().id()));
      }
    }
    LoadBalancerPlan want = byInstance(plan);
    LoadBalancerPlan is =
        want.toBuilder()
            .listeners(have.isEmpty() ? want.listeners() : have)
            .backends(targets.stream().map(i -> new Backend(i, "", i, "")).toList())
            .build();
    List<String> changes = new ArrayList<>(PlanDiff.between(is, want));
    if (have.isEmpty()) {
      changes.add(0, "listeners: the NLB has none; every one is added");
    }
    changes.add(
        "target groups: Ferry's own are made and the listeners moved to them in place (the NLB"
            + " serves throughout); "
            + (groups.isEmpty()
                ? "it has none now"
                : "its target groups "
                    + groups.values().stream().map(TargetGroup::targetGroupName).toList()
                    + " are left as they are"));
    changes.add(
        lb.securityGroups().isEmpty()
            ? "clients: admitted on the nodes' security groups (the NLB has none, and AWS adds"
                + " none to an NLB made without)"
            : "security groups: set to Ferry's frontend and backend groups");
    changes.add(
        "tags: "
            + String.join(", ", added(tagsOf(lb), plan.ref()).keySet())
            + " added; the NLB becomes the Service's, deleted with it unless"
            + " ferry.dev/reclaim-policy is Retain (then given back as it is)");
    if (options.internal()
        != (lb.scheme()
            == software.amazon.awssdk.services.elasticloadbalancingv2.model.LoadBalancerSchemeEnum
                .INTERNAL)) {
      throw new ProviderException.InvalidPlan(
          FIELD,
          "NLB "
              + lb.loadBalancerName()
              + " is "
              + lb.schemeAsString()
              + " and the Service asks for the other scheme; an NLB's scheme is fixed");
    }
    return new AdoptionPreview(lb.dnsName(), changes);
  }

  /** Tags {@code id}'s NLB as {@code ref}'s (adopted), and answers it. */
  LoadBalancer adopt(LoadBalancerRef ref, String id) throws ProviderException {
    LoadBalancer lb = adoptable(id, ref.cluster());
    Map<String, String> before = tagsOf(lb);
    Map<String, String> add = added(before, ref);
    List<Tag> tags = new ArrayList<>();
    // what Ferry overwrites is kept beside, to be put back when the NLB is given back
    add.keySet().stream()
        .filter(before::containsKey)
        .forEach(k -> tags.add(Tag.builder().key(WAS + k).value(before.get(k)).build()));
    add.forEach((k, v) -> tags.add(Tag.builder().key(k).value(v).build()));
    tags.add(Tag.builder().key(TAG_ADOPTED).value(String.join(" ", add.keySet())).build());
    // the UID last: until it is on, the NLB is nobody's and the adoption is tried again whole
    tags.sort(
        (a, b) -> a.key().equals(AwsShape.TAG_UID) ? 1 : b.key().equals(AwsShape.TAG_UID) ? -1 : 0);
    for (Tag t : tags) {
      aws.api.run(
          Bucket.ELB_MUTATE,
          "AddTags",
          () -> aws.elb.addTags(r -> r.resourceArns(lb.loadBalancerArn()).tags(t)));
    }
    return lb;
  }

  /** Gives an adopted NLB back: the tags Ferry added come off; false when it was not adopted. */
  boolean giveBack(LoadBalancer lb) throws ProviderException {
    Map<String, String> tags = tagsOf(lb);
    String added = tags.get(TAG_ADOPTED);
    if (added == null) {
      return false;
    }
    List<String> keys = new ArrayList<>(List.of(added.split(" ")));
    keys.removeIf(String::isBlank);
    List<Tag> restore = new ArrayList<>();
    tags.forEach(
        (k, v) -> {
          if (k.startsWith(WAS)) {
            keys.add(k);
            restore.add(Tag.builder().key(k.substring(WAS.length())).value(v).build());
          }
        });
    keys.add(TAG_ADOPTED);
    // the UID first: from then on the NLB is no Service's, whatever else a crash leaves
    keys.sort((a, b) -> a.equals(AwsShape.TAG_UID) ? -1 : b.equals(AwsShape.TAG_UID) ? 1 : 0);
    aws.api.run(
        Bucket.ELB_MUTATE,
        "RemoveTags",
        () -> aws.elb.removeTags(r -> r.resourceArns(lb.loadBalancerArn()).tagKeys(keys)));
    if (!restore.isEmpty()) {
      aws.api.run(
          Bucket.ELB_MUTATE,
          "AddTags",
          () -> aws.elb.addTags(r -> r.resourceArns(lb.loadBalancerArn()).tags(restore)));
    }
    return true;
  }

  /** Ferry's ownership tags that {@code tags} lacks, for {@code ref}. */
  private static Map<String, String> added(Map<String, String> tags, LoadBalancerRef ref) {
    Map<String, String> want = new LinkedHashMap<>();
    want.put(AwsShape.TAG_CLUSTER, ref.cluster());
    want.put(AwsShape.TAG_CLUSTER_PREFIX + ref.cluster(), "owned");
    want.put(AwsShape.TAG_SERVICE_NAME, ref.serviceKey());
    want.put(AwsShape.TAG_UID, ref.uid());
    Map<String, String> out = new LinkedHashMap<>();
    want.forEach(
        (k, v) -> {
          if (!v.equals(tags.get(k))) {
            out.put(k, v);
          }
        });
    return out;
  }

  /** {@code plan} with each backend named by its instance (what an NLB's targets are). */
  private static LoadBalancerPlan byInstance(LoadBalancerPlan plan) {
    List<Backend> out = new ArrayList<>();
    for (Backend b : plan.backends()) {
      String id = AwsShape.instanceId(b);
      if (id != null) {
        out.add(new Backend(id, "", id, ""));
      }
    }
    return plan.toBuilder().backends(out).build();
  }

  private Map<String, String> tagsOf(LoadBalancer lb) throws ProviderException {
    return aws.tags(List.of(lb.loadBalancerArn())).getOrDefault(lb.loadBalancerArn(), Map.of());
  }
}
