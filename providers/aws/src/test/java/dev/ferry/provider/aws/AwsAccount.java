package dev.ferry.provider.aws;

import dev.ferry.spi.Backend;
import dev.ferry.spi.LoadBalancerRef;
import java.net.URI;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import software.amazon.awssdk.auth.credentials.AwsBasicCredentials;
import software.amazon.awssdk.auth.credentials.StaticCredentialsProvider;
import software.amazon.awssdk.regions.Region;
import software.amazon.awssdk.services.ec2.Ec2Client;
import software.amazon.awssdk.services.ec2.model.Instance;
import software.amazon.awssdk.services.ec2.model.IpPermission;
import software.amazon.awssdk.services.ec2.model.Subnet;
import software.amazon.awssdk.services.elasticloadbalancingv2.ElasticLoadBalancingV2Client;
import software.amazon.awssdk.services.elasticloadbalancingv2.model.LoadBalancer;
import software.amazon.awssdk.services.elasticloadbalancingv2.model.TargetGroup;

/**
 * The test's own view of an emulated AWS account (moto, LocalStack), through the SDK directly
 * (never through the provider): set-up (tagged subnets, a node security group, instances) and
 * inspection.
 */
public final class AwsAccount implements AutoCloseable {

  public static final String REGION = "us-east-1";
  public final ElasticLoadBalancingV2Client elb;
  public final Ec2Client ec2;
  public final String endpoint;

  private AwsAccount(String endpoint) {
    this.endpoint = endpoint;
    // the provider reads credentials from the SDK's default chain; system properties are part of it
    System.setProperty("aws.accessKeyId", "testing");
    System.setProperty("aws.secretAccessKey", "testing");
    var creds = StaticCredentialsProvider.create(AwsBasicCredentials.create("testing", "testing"));
    this.elb =
        ElasticLoadBalancingV2Client.builder()
            .endpointOverride(URI.create(endpoint))
            .region(Region.of(REGION))
            .credentialsProvider(creds)
            .build();
    this.ec2 =
        Ec2Client.builder()
            .endpointOverride(URI.create(endpoint))
            .region(Region.of(REGION))
            .credentialsProvider(creds)
            .build();
  }

  /** The JVM's moto server, started if needed. */
  public static AwsAccount connect() {
    return new AwsAccount(MotoServer.endpoint());
  }

  /** Any emulator (or account) at {@code endpoint}. */
  public static AwsAccount at(String endpoint) {
    return new AwsAccount(endpoint);
  }

  /** Provider settings that point the aws provider at this cloud. */
  public Map<String, String> providerSettings() {
    return Map.of("aws.region", REGION, "aws.endpoint", endpoint);
  }

  /** Tags two default subnets for internet-facing and internal NLBs of {@code cluster}. */
  public List<Subnet> tagSubnets(String cluster) {
    List<Subnet> subnets =
        ec2.describeSubnets().subnets().stream()
            .filter(Subnet::defaultForAz)
            .sorted((a, b) -> a.availabilityZone().compareTo(b.availabilityZone()))
            .limit(2)
            .toList();
    tag(
        subnets.stream().map(Subnet::subnetId).toList(),
        Map.of(
            "kubernetes.io/role/elb",
            "1",
            "kubernetes.io/role/internal-elb",
            "1",
            "kubernetes.io/cluster/" + cluster,
            "shared"));
    return subnets;
  }

  /**
   * Gives {@code subnets}' VPC an Amazon-provided IPv6 block and each subnet a /64 of it, as a
   * dualstack NLB needs; idempotent.
   */
  public void ipv6(List<Subnet> subnets) {
    String vpcId = subnets.get(0).vpcId();
    var vpc = ec2.describeVpcs(r -> r.vpcIds(vpcId)).vpcs().get(0);
    String block =
        vpc.ipv6CidrBlockAssociationSet().isEmpty()
            ? ec2.associateVpcCidrBlock(r -> r.vpcId(vpcId).amazonProvidedIpv6CidrBlock(true))
                .ipv6CidrBlockAssociation()
                .ipv6CidrBlock()
            : vpc.ipv6CidrBlockAssociationSet().get(0).ipv6CidrBlock();
    String prefix = block.substring(0, block.indexOf("::"));
    for (int i = 0; i < subnets.size(); i++) {
      String id = subnets.get(i).subnetId();
      Subnet now = ec2.describeSubnets(r -> r.subnetIds(id)).subnets().get(0);
      if (now.ipv6CidrBlockAssociationSet().isEmpty()) {
        String cidr = prefix.substring(0, prefix.length() - 1) + (i + 1) + "::/64";
        ec2.associateSubnetCidrBlock(r -> r.subnetId(id).ipv6CidrBlock(cidr));
      }
    }
  }

  /** Tags EC2 resources. */
  public void tag(List<String> resources, Map<String, String> tags) {
    ec2.createTags(
        r ->
            r.resources(resources)
                .tags(
                    tags.entrySet().stream()
                        .map(
                            e ->
                                software.amazon.awssdk.services.ec2.model.Tag.builder()
                                    .key(e.getKey())
                                    .value(e.getValue())
                                    .build())
                        .toList()));
  }

  /** A security group for the nodes, tagged for {@code cluster}. */
  public String nodeSecurityGroup(String cluster, String vpcId) {
    String id =
        ec2.createSecurityGroup(
                r ->
                    r.groupName(
                            "nodes-"
                                + cluster
                                + "-"
                                + java.util.UUID.randomUUID().toString().substring(0, 8))
                        .description("nodes")
                        .vpcId(vpcId))
            .groupId();
    ec2.createTags(
        r ->
            r.resources(id)
                .tags(
                    software.amazon.awssdk.services.ec2.model.Tag.builder()
                        .key("kubernetes.io/cluster/" + cluster)
                        .value("owned")
                        .build()));
    return id;
  }

  /** {@code count} running instances in {@code subnet} with {@code securityGroup}. */
  public List<Instance> launch(int count, Subnet subnet, String securityGroup) {
    return ec2.runInstances(
            r ->
                r.imageId("ami-12c6146b")
                    .instanceType("t3.small")
                    .minCount(count)
                    .maxCount(count)
                    .subnetId(subnet.subnetId())
                    .securityGroupIds(securityGroup))
        .instances();
  }

  /** Backends as Ferry's planner makes them from Nodes with aws providerIDs. */
  public static List<Backend> backends(List<Instance> instances) {
    List<Backend> out = new ArrayList<>();
    for (Instance i : instances) {
      String zone = i.placement().availabilityZone();
      out.add(
          new Backend(
              "node-" + i.instanceId(),
              "aws:///" + zone + "/" + i.instanceId(),
              i.privateIpAddress(),
              zone));
    }
    return out;
  }

  public List<LoadBalancer> loadBalancers() {
    return elb.describeLoadBalancers().loadBalancers();
  }

  /** {@code ref}'s NLBs: by Ferry's name for it, or (adopted, claimed) by its UID tag. */
  public List<LoadBalancer> loadBalancersFor(LoadBalancerRef ref) {
    return loadBalancers().stream()
        .filter(
            lb ->
                lb.loadBalancerName().equals(AwsNames.loadBalancer(ref))
                    || elb
                        .describeTags(r -> r.resourceArns(lb.loadBalancerArn()))
                        .tagDescriptions()
                        .stream()
                        .flatMap(d -> d.tags().stream())
                        .anyMatch(
                            t -> t.key().equals(AwsShape.TAG_UID) && t.value().equals(ref.uid())))
        .toList();
  }

  /**
   * An NLB made outside Ferry, as the in-tree controller makes one: named {@code name}, in {@code
   * subnet}, no security groups, a TCP listener on {@code port} to a target group on {@code
   * nodePort} with {@code instances} registered. Answers its ARN.
   */
  public String handMadeNlb(
      String name, Subnet subnet, int port, int nodePort, List<String> instances) {
    LoadBalancer lb =
        elb.createLoadBalancer(
                r ->
                    r.name(name)
                        .type("network")
                        .scheme("internet-facing")
                        .subnets(subnet.subnetId())
                        .tags(
                            software.amazon.awssdk.services.elasticloadbalancingv2.model.Tag
                                .builder()
                                .key("kubernetes.io/service-name")
                                .value("legacy/" + name)
                                .build()))
            .loadBalancers()
            .get(0);
    String tg =
        elb.createTargetGroup(
                r ->
                    r.name(name + "-tg")
                        .protocol("TCP")
                        .port(nodePort)
                        .vpcId(subnet.vpcId())
                        .targetType("instance"))
            .targetGroups()
            .get(0)
            .targetGroupArn();
    elb.registerTargets(
        r ->
            r.targetGroupArn(tg)
                .targets(
                    instances.stream()
                        .map(
                            i ->
                                software.amazon.awssdk.services.elasticloadbalancingv2.model
                                    .TargetDescription.builder()
                                    .id(i)
                                    .port(nodePort)
                                    .build())
                        .toList()));
    elb.createListener(
        r ->
            r.loadBalancerArn(lb.loadBalancerArn())
                .protocol("TCP")
                .port(port)
                .defaultActions(a -> a.type("forward").targetGroupArn(tg)));
    return lb.loadBalancerArn();
  }

  public List<TargetGroup> targetGroups() {
    return elb.describeTargetGroups().targetGroups();
  }

  public List<software.amazon.awssdk.services.elasticloadbalancingv2.model.Listener> listeners(
      LoadBalancer lb) {
    return elb.describeListeners(r -> r.loadBalancerArn(lb.loadBalancerArn())).listeners();
  }

  public Set<String> registeredInstances(TargetGroup tg) {
    Set<String> ids = new HashSet<>();
    elb.describeTargetHealth(r -> r.targetGroupArn(tg.targetGroupArn()))
        .targetHealthDescriptions()
        .forEach(d -> ids.add(d.target().id()));
    return ids;
  }

  /**
   * The client rules of an NLB's own (frontend) security group, as {@code proto/port from cidr}.
   */
  public List<String> frontendGroupOf(LoadBalancer lb) {
    List<String> out = new ArrayList<>();
    for (software.amazon.awssdk.services.ec2.model.SecurityGroup g :
        ec2.describeSecurityGroups(r -> r.groupIds(lb.securityGroups())).securityGroups()) {
      if (g.groupName().equals(lb.loadBalancerName())) {
        for (IpPermission p : g.ipPermissions()) {
          p.ipRanges()
              .forEach(
                  range ->
                      out.add(p.ipProtocol() + "/" + p.fromPort() + " from " + range.cidrIp()));
          p.ipv6Ranges()
              .forEach(
                  range ->
                      out.add(p.ipProtocol() + "/" + p.fromPort() + " from " + range.cidrIpv6()));
        }
      }
    }
    return out;
  }

  /**
   * The rules of {@code groupId} whose source is another group, as {@code proto/from-to from sg}.
   */
  public List<String> groupRulesOf(String groupId) {
    List<String> out = new ArrayList<>();
    for (IpPermission p : permissions(groupId)) {
      p.userIdGroupPairs()
          .forEach(
              u ->
                  out.add(
                      p.ipProtocol()
                          + "/"
                          + p.fromPort()
                          + "-"
                          + p.toPort()
                          + " from "
                          + u.groupId()));
    }
    return out;
  }

  private List<IpPermission> permissions(String groupId) {
    return ec2.describeSecurityGroups(r -> r.groupIds(groupId))
        .securityGroups()
        .get(0)
        .ipPermissions();
  }

  /** Security groups tagged as {@code ref}'s. */
  public List<String> groupsTagged(LoadBalancerRef ref) {
    return ec2
        .describeSecurityGroups(
            r ->
                r.filters(
                    software.amazon.awssdk.services.ec2.model.Filter.builder()
                        .name("tag:ferry.dev/service-uid")
                        .values(ref.uid())
                        .build()))
        .securityGroups()
        .stream()
        .map(software.amazon.awssdk.services.ec2.model.SecurityGroup::groupId)
        .toList();
  }

  /** Ingress rules in {@code groupId} carrying the description Ferry gives {@code ref}'s rules. */
  public List<String> rulesOf(String groupId, LoadBalancerRef ref) {
    List<String> out = new ArrayList<>();
    for (IpPermission p : permissions(groupId)) {
      p.ipRanges().stream()
          .filter(range -> AwsNames.ruleDescription(ref).equals(range.description()))
          .forEach(
              range -> out.add(p.ipProtocol() + "/" + p.fromPort() + " from " + range.cidrIp()));
    }
    return out;
  }

  @Override
  public void close() {
    elb.close();
    ec2.close();
  }
}
