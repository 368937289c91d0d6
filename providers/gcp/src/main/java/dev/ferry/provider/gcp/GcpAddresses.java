package dev.ferry.provider.gcp;

import com.google.cloud.compute.v1.Address;
import com.google.cloud.compute.v1.AddressList;
import com.google.cloud.compute.v1.InsertAddressRequest;
import com.google.cloud.compute.v1.ListAddressesRequest;
import com.google.cloud.compute.v1.ListSubnetworksRequest;
import com.google.cloud.compute.v1.RegionSetLabelsRequest;
import com.google.cloud.compute.v1.SetLabelsAddressRequest;
import com.google.cloud.compute.v1.Subnetwork;
import com.google.cloud.compute.v1.SubnetworkList;
import dev.ferry.spi.LoadBalancerPlan;
import dev.ferry.spi.LoadBalancerRef;
import dev.ferry.spi.ProviderException;
import dev.ferry.spi.RetainedAddress;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * A Service's address: the user's own reserved address when {@code spec.loadBalancerIP} names one
 * (used as it is, its network tier honoured, never released by Ferry), otherwise Ferry's, reserved
 * in the wanted tier with the requested IP if any. Ferry's internal addresses have purpose {@code
 * SHARED_LOADBALANCER_VIP}: a TCP and a UDP forwarding rule share one internal IP only so. What the
 * user asked that Compute refuses is an {@link ProviderException.InvalidPlan} naming the field.
 */
final class GcpAddresses {

  /** The address the rules use: its IP and network tier. */
  record Chosen(String ip, String tier) {}

  static final String TIER = "cloud.google.com/network-tier";

  private final GcpContext c;
  private final GcpApi api;
  private final GcpResources resources;
  private volatile String defaultSubnet;

  GcpAddresses(GcpResources resources, GcpApi api) {
    this.c = resources.context();
    this.api = api;
    this.resources = resources;
  }

  /**
   * @param tier the tier the Service asked for ({@code PREMIUM}, {@code STANDARD}), or empty for
   *     the address's own (a user's) or PREMIUM (Ferry's)
   * @param dropRules deletes the Service's forwarding rules, before an address they use goes
   */
  Chosen ensure(
      LoadBalancerPlan plan,
      GcpShape shape,
      String subnetwork,
      Optional<String> tier,
      ProviderCall dropRules)
      throws ProviderException {
    LoadBalancerRef ref = plan.ref();
    if (plan.sharingKey().isPresent()) {
      return shared(plan, shape, subnetwork, tier, dropRules);
    }
    Optional<String> requested = plan.requestedIp();
    Optional<Address> mine = resources.addresses.read().get(shape.address());
    if (mine.isPresent()) {
      GcpOwner.requireOwned(mine.get().getDescription(), ref, shape.address());
    }
    String wantTier = shape.internal() ? "" : tier.orElse("PREMIUM");
    boolean sameIp =
        mine.isPresent() && requested.map(ip -> ip.equals(mine.get().getAddress())).orElse(true);
    if (sameIp
        && requested.isPresent()
        && !shape.internal()
        && !mine.get().getNetworkTier().equals(wantTier)) {
      throw new ProviderException.InvalidPlan(
          "metadata.annotations[" + TIER + "]",
          requested.get()
              + " is a "
              + mine.get().getNetworkTier()
              + " address and an address's tier cannot change; remove spec.loadBalancerIP to"
              + " get a "
              + wantTier
              + " address, or the annotation to keep this one");
    }
    boolean mineFits =
        sameIp
            && (shape.internal()
                ? shape.rules().size() < 2
                    || mine.get().getPurpose().equals("SHARED_LOADBALANCER_VIP")
                : mine.get().getNetworkTier().equals(wantTier));
    if (mineFits) {
      labels(ref, mine.get());
      return new Chosen(mine.get().getAddress(), mine.get().getNetworkTier());
    }
    Optional<Address> users =
        requested.isPresent() ? reservedByUser(requested.get(), ref.cluster()) : Optional.empty();
    if (users.isPresent()) {
      Address a = users.get();
      check(shape, tier, a);
    }
    if (mine.isPresent()) {
      // moving to another IP or tier: the rules go first, then Ferry's old address
      dropRules.run();
      resources.addresses.delete().delete(shape.address());
    }
    if (users.isPresent()) {
      return new Chosen(users.get().getAddress(), users.get().getNetworkTier());
    }
    return reserve(plan, shape, subnetwork, wantTier, requested);
  }

  /**
   * The address of the Service's sharing key: the cluster's, named after the key, reserved by the
   * first Service with it (with its requested IP, if any: the controller made every Service with
   * the key ask for the same) and used by each one's forwarding rules, which Compute lets share an
   * IP on different ports (discovery ForwardingRule.ports). An address of the Service's own, from
   * before it shared, goes.
   */
  private Chosen shared(
      LoadBalancerPlan plan,
      GcpShape shape,
      String subnetwork,
      Optional<String> tier,
      ProviderCall dropRules)
      throws ProviderException {
    LoadBalancerRef ref = plan.ref();
    String name = GcpNames.sharedAddress(ref.cluster(), plan.sharingKey().get());
    Optional<Address> mine = resources.addresses.read().get(shape.address());
    Optional<Address> key = resources.addresses.read().get(name);
    if (mine.isPresent()
        && GcpOwner.owned(mine.get().getDescription(), ref)
        && !retained(mine.get())
        && !(key.isPresent() && key.get().getAddress().equals(mine.get().getAddress()))) {
      dropRules.run();
      resources.addresses.delete().delete(shape.address());
    }
    if (key.isEmpty()) {
      insert(
          address(
              name,
              GcpOwner.sharedAddress(ref.cluster(), plan.sharingKey().get()),
              shape,
              subnetwork,
              tier.orElse("PREMIUM"),
              plan.requestedIp()));
      key = resources.addresses.read().get(name).filter(x -> !x.getAddress().isEmpty());
      if (key.isEmpty()) {
        throw new ProviderException.Transient("address " + name + " has no IP yet", null);
      }
    } else if (!GcpOwner.sharedAddressOf(key.get().getDescription(), ref.cluster())) {
      throw new ProviderException.Transient(
          "address " + name + " exists but is not this cluster's shared address", null);
    }
    check(shape, tier, key.get());
    return new Chosen(key.get().getAddress(), key.get().getNetworkTier());
  }

  /**
   * Deletes the shared addresses among {@code ips} (the IPs a deleted Service's rules had) that no
   * rule uses any more; one still in use stays, for the Services left.
   */
  void releaseShared(String cluster, java.util.Set<String> ips) throws ProviderException {
    for (String ip : ips) {
      for (Address a : list("address = \"" + ip + "\"")) {
        if (a.getAddress().equals(ip)
            && GcpOwner.sharedAddressOf(a.getDescription(), cluster)
            && a.getUsersCount() == 0) {
          resources.addresses.delete().delete(a.getName()); // false: a rule took it meanwhile
        }
      }
    }
  }

  /** A user's address fits the Service, or the field to change is named. */
  private static void check(GcpShape shape, Optional<String> tier, Address a)
      throws ProviderException.InvalidPlan {
    boolean internal = a.getAddressType().equals("INTERNAL");
    if (internal != shape.internal()) {
      throw new ProviderException.InvalidPlan(
          "spec.loadBalancerIP",
          a.getAddress()
              + " is the "
              + a.getAddressType()
              + " address "
              + a.getName()
              + "; an "
              + (shape.internal() ? "internal" : "external")
              + " load balancer needs an "
              + (shape.internal() ? "INTERNAL" : "EXTERNAL")
              + " one");
    }
    if (!internal && tier.isPresent() && !tier.get().equals(a.getNetworkTier())) {
      // a rule's networkTier must equal its address's (discovery ForwardingRule.networkTier)
      throw new ProviderException.InvalidPlan(
          "metadata.annotations[" + TIER + "]",
          "the Service asks for "
              + tier.get()
              + " but its address "
              + a.getName()
              + " ("
              + a.getAddress()
              + ") is "
              + a.getNetworkTier()
              + "; a forwarding rule's tier must be its address's: remove the annotation or name"
              + " a "
              + tier.get()
              + " address");
    }
    if (internal && shape.rules().size() > 1 && !a.getPurpose().equals("SHARED_LOADBALANCER_VIP")) {
      throw new ProviderException.InvalidPlan(
          "spec.loadBalancerIP",
          "the Service has TCP and UDP ports, so two forwarding rules share "
              + a.getAddress()
              + ", which Compute allows only for an address of purpose SHARED_LOADBALANCER_VIP;"
              + " address "
              + a.getName()
              + " has purpose "
              + (a.getPurpose().isEmpty() ? "GCE_ENDPOINT" : a.getPurpose())
              + ": reserve one with --purpose=SHARED_LOADBALANCER_VIP");
    }
  }

  private Chosen reserve(
      LoadBalancerPlan plan, GcpShape shape, String subnetwork, String tier, Optional<String> ip)
      throws ProviderException {
    try {
      insert(address(shape.address(), shape.description(), shape, subnetwork, tier, ip));
    } catch (ProviderException e) {
      if (ip.isPresent() && GcpErrors.refusedAs(e)) {
        throw new ProviderException.InvalidPlan(
            "spec.loadBalancerIP",
            ip.get()
                + " cannot be reserved in region "
                + c.region()
                + " ("
                + e.getMessage()
                + "); name an address reserved in this project and region, or remove the field");
      }
      throw e;
    }
    Address made =
        resources
            .addresses
            .read()
            .get(shape.address())
            .filter(x -> !x.getAddress().isEmpty())
            .orElseThrow(
                () ->
                    new ProviderException.Transient(
                        "address " + shape.address() + " has no IP yet", null));
    labels(plan.ref(), made);
    return new Chosen(made.getAddress(), made.getNetworkTier());
  }

  /**
   * An address to reserve: internal ones of purpose SHARED_LOADBALANCER_VIP (a TCP and a UDP rule
   * share one internal IP only so), external ones in {@code tier}.
   */
  private static Address.Builder address(
      String name,
      String description,
      GcpShape shape,
      String subnetwork,
      String tier,
      Optional<String> ip) {
    Address.Builder a = Address.newBuilder().setName(name).setDescription(description);
    if (shape.internal()) {
      a.setAddressType("INTERNAL").setPurpose("SHARED_LOADBALANCER_VIP").setSubnetwork(subnetwork);
    } else {
      a.setAddressType("EXTERNAL").setNetworkTier(tier);
    }
    ip.ifPresent(a::setAddress);
    return a;
  }

  /** Reserves {@code a} in the region (idempotent: a retry finds it by its name). */
  private void insert(Address.Builder a) throws ProviderException {
    api.insert(
        "addresses.insert",
        id ->
            c.addresses()
                .insertCallable()
                .call(
                    InsertAddressRequest.newBuilder()
                        .setProject(c.project())
                        .setRegion(c.region())
                        .setAddressResource(a)
                        .setRequestId(id)
                        .build()),
        () -> resources.addresses.read().get(a.getName()).isPresent());
  }

  /** The label that marks an address retained after its Service ({@code ferry-reclaim: retain}). */
  static final String RETAINED = "ferry-reclaim";

  static boolean retained(Address a) {
    return "retain".equals(a.getLabelsMap().get(RETAINED));
  }

  /** Marks {@code a} retained: Ferry deletes it only when an operator names it. */
  void retain(Address a) throws ProviderException {
    if (!retained(a)) {
      Map<String, String> labels = new LinkedHashMap<>(a.getLabelsMap());
      labels.put(RETAINED, "retain");
      setLabels(a, labels);
    }
  }

  private void labels(LoadBalancerRef ref, Address a) throws ProviderException {
    if (!a.getLabelsMap().equals(GcpOwner.labels(ref))) {
      setLabels(a, GcpOwner.labels(ref));
    }
  }

  /** Labels go on through setLabels only (discovery Address.labels), with the fingerprint. */
  private void setLabels(Address a, Map<String, String> labels) throws ProviderException {
    api.mutate(
        "addresses.setLabels",
        id ->
            c.addresses()
                .setLabelsCallable()
                .call(
                    SetLabelsAddressRequest.newBuilder()
                        .setProject(c.project())
                        .setRegion(c.region())
                        .setResource(a.getName())
                        .setRegionSetLabelsRequestResource(
                            RegionSetLabelsRequest.newBuilder()
                                .setLabelFingerprint(a.getLabelFingerprint())
                                .putAllLabels(labels))
                        .setRequestId(id)
                        .build()));
  }

  /**
   * An address the project reserved with {@code ip} that Ferry did not make, or that Ferry retained
   * for {@code cluster}: used as it is, and never deleted with the Service.
   */
  private Optional<Address> reservedByUser(String ip, String cluster) throws ProviderException {
    return list("address = \"" + ip + "\"").stream()
        .filter(a -> a.getAddress().equals(ip))
        .filter(
            a ->
                !a.getName().startsWith("ferry-")
                    || retained(a) && GcpOwner.ownerOf(a.getDescription(), cluster).isPresent())
        .findFirst();
  }

  /** The addresses retained for {@code cluster}. */
  List<RetainedAddress> retainedFor(String cluster) throws ProviderException {
    List<RetainedAddress> out = new ArrayList<>();
    for (Address a : list("")) {
      if (retained(a)) {
        Optional<LoadBalancerRef> from = GcpOwner.ownerOf(a.getDescription(), cluster);
        if (from.isPresent()) {
          out.add(
              new RetainedAddress(
                  a.getName(),
                  a.getAddress(),
                  from.get().namespace(),
                  from.get().name(),
                  a.getUsersCount() > 0));
        }
      }
    }
    return out;
  }

  /** Deletes the address {@code name} retained for {@code cluster}; see the SPI. */
  void deleteRetained(String cluster, String name) throws ProviderException {
    Optional<Address> found = resources.addresses.read().get(name);
    if (found.isEmpty()) {
      return;
    }
    Address a = found.get();
    if (!retained(a) || GcpOwner.ownerOf(a.getDescription(), cluster).isEmpty()) {
      throw new ProviderException.InvalidPlan(
          "id", "address " + name + " is not retained for cluster " + cluster);
    }
    if (a.getUsersCount() > 0) {
      throw new ProviderException.InvalidPlan(
          "id",
          "address "
              + name
              + " ("
              + a.getAddress()
              + ") is in use by "
              + a.getUsersList().stream().map(GcpContext::last).toList()
              + "; delete the Service using it first");
    }
    if (!resources.addresses.delete().delete(name)) {
      throw new ProviderException.Transient("address " + name + " is still in use", null);
    }
  }

  /** The region's addresses that {@code filter} (Compute's list filter, or empty) admits. */
  List<Address> list(String filter) throws ProviderException {
    return api.pages(
        "addresses.list",
        t ->
            c.addresses()
                .listCallable()
                .call(
                    ListAddressesRequest.newBuilder()
                        .setProject(c.project())
                        .setRegion(c.region())
                        .setFilter(filter)
                        .setPageToken(t)
                        .build()),
        AddressList::getItemsList,
        AddressList::getNextPageToken);
  }

  /**
   * The subnet an internal load balancer takes its address from: the Service's, the setting's, or
   * else the network's one subnet in the region (a custom-mode network needs one named; the
   * discovery document's ForwardingRule.subnetwork).
   */
  String subnetwork(String named) throws ProviderException {
    if (!named.isEmpty()) {
      return GcpContext.full(named);
    }
    if (!c.subnetwork().isEmpty()) {
      return GcpContext.full(c.subnetwork());
    }
    String known = defaultSubnet;
    if (known != null) {
      return known;
    }
    String network = GcpContext.full(c.network());
    List<Subnetwork> subnets =
        api.pages(
            "subnetworks.list",
            t ->
                c.subnetworks()
                    .listCallable()
                    .call(
                        ListSubnetworksRequest.newBuilder()
                            .setProject(c.project())
                            .setRegion(c.region())
                            .setFilter("network = \"" + network + "\"")
                            .setPageToken(t)
                            .build()),
            SubnetworkList::getItemsList,
            SubnetworkList::getNextPageToken);
    if (subnets.size() != 1) {
      throw new ProviderException.InvalidPlan(
          "metadata.annotations[" + GcpOptions.SUBNET + "]",
          "network "
              + GcpContext.last(c.network())
              + " has "
              + subnets.size()
              + " subnets in "
              + c.region()
              + " "
              + subnets.stream().map(Subnetwork::getName).toList()
              + "; name the internal load balancer's with the annotation, or set the provider"
              + " setting gcp.subnetwork");
    }
    known = GcpContext.full(subnets.get(0).getSelfLink());
    defaultSubnet = known;
    return known;
  }

  /**
   * The nodes' subnet, where an external IPv6 forwarding rule takes its range: {@code
   * gcp.subnetwork}, else the network's one subnet in the region.
   */
  Subnetwork nodeSubnet() throws ProviderException {
    String link = GcpContext.relative(subnetwork(""));
    String[] parts = link.split("/"); // projects/p/regions/r/subnetworks/name
    if (parts.length != 6) {
      throw new ProviderException.InvalidPlan("gcp.subnetwork", "'" + link + "' is not a subnet");
    }
    return api.get("subnetworks.get", () -> c.subnetworks().get(parts[1], parts[3], parts[5]))
        .orElseThrow(
            () ->
                new ProviderException.InvalidPlan(
                    "gcp.subnetwork", "subnet " + link + " does not exist"));
  }

  /**
   * The Service's IPv6 address: Ferry's external IPv6 range of endpoint type NETLB in {@code
   * subnetwork}, Premium tier (<a
   * href="https://cloud.google.com/vpc/docs/reserve-static-external-ip-address#reserve_new_static">reserving
   * an external IPv6 address</a>), reserved once and kept while the Service is dual-stack, so a
   * rule made again keeps it. Answers the range as a rule takes it ({@code 2600:1900:…::/96}).
   */
  String ensureIpv6(LoadBalancerRef ref, GcpShape shape, String subnetwork)
      throws ProviderException {
    String name = GcpNames.ipv6(shape.address());
    Optional<Address> mine = resources.addresses.read().get(name);
    if (mine.isEmpty()) {
      Address.Builder a =
          Address.newBuilder()
              .setName(name)
              .setDescription(shape.description())
              .setAddressType("EXTERNAL")
              .setIpVersion("IPV6")
              .setIpv6EndpointType("NETLB")
              .setNetworkTier("PREMIUM")
              .setSubnetwork(subnetwork);
      insert(a);
      mine = resources.addresses.read().get(name).filter(x -> !x.getAddress().isEmpty());
      if (mine.isEmpty()) {
        throw new ProviderException.Transient("address " + name + " has no IP yet", null);
      }
    }
    GcpOwner.requireOwned(mine.get().getDescription(), ref, name);
    labels(ref, mine.get());
    String ip = mine.get().getAddress();
    int prefix = mine.get().hasPrefixLength() ? mine.get().getPrefixLength() : 96;
    return ip.contains("/") ? ip : ip + "/" + prefix;
  }

  /** A provider step that may fail. */
  interface ProviderCall {
    void run() throws ProviderException;
  }
}
