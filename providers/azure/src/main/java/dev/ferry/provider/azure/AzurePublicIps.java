package dev.ferry.provider.azure;

import com.azure.core.management.SubResource;
import com.azure.resourcemanager.network.fluent.models.PublicIpAddressInner;
import com.azure.resourcemanager.network.models.IpAllocationMethod;
import com.azure.resourcemanager.network.models.IpVersion;
import com.azure.resourcemanager.network.models.PublicIpAddressDnsSettings;
import com.azure.resourcemanager.network.models.PublicIpAddressSku;
import com.azure.resourcemanager.network.models.PublicIpAddressSkuName;
import dev.ferry.spi.LoadBalancerPlan;
import dev.ferry.spi.LoadBalancerRef;
import dev.ferry.spi.ProviderException;
import dev.ferry.spi.RetainedAddress;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;

/**
 * A Service's public IP: the user's (named, or by address), checked before it is used, or Ferry's
 * own, named after the Service and tagged with Ferry's keys only (cloud-provider-azure's {@code
 * k8s-azure-*} tags would make AKS's controller count it as its own), made in the resource group
 * the Service names and found again there, or by its tags anywhere in the subscription.
 */
final class AzurePublicIps {

  static final String TAG_CLUSTER = AzureLbShape.TAG_CLUSTER;
  static final String TAG_SERVICE = "ferry.dev-service";
  static final String TAG_UID = "ferry.dev-service-uid";

  /** The cluster tag Ferry wrote before it had keys of its own; read, never written. */
  static final String LEGACY_CLUSTER = "k8s-azure-cluster-name";

  private final Arm arm;
  private final AzureSettings s;

  AzurePublicIps(Arm arm, AzureSettings settings) {
    this.arm = arm;
    this.s = settings;
  }

  /**
   * The public IP the Service's frontend uses, ready for it.
   *
   * @param frontendId the Service's frontend, which may already hold the IP
   */
  PublicIpAddressInner ensure(LoadBalancerPlan plan, AzureWish wish, String frontendId)
      throws ProviderException {
    String id = s.publicIpId(wish.pipGroup(), wish.pipName());
    if (wish.usersPip()) {
      PublicIpAddressInner pip =
          get(id)
              .orElseThrow(
                  () ->
                      new ProviderException.InvalidPlan(
                          List.of(
                              AzureWish.violation(
                                  AzureWish.PIP_NAME,
                                  "no public IP "
                                      + wish.pipName()
                                      + " in resource group "
                                      + wish.pipGroup()
                                      + (wish.pipGroup().equals(s.resourceGroup())
                                          ? "; name its group with " + AzureWish.PIP_RESOURCE_GROUP
                                          : "")))));
      return usable(pip, AzureWish.PIP_NAME, frontendId);
    }
    Optional<PublicIpAddressInner> own = get(id);
    if (wish.requestedIp().isPresent()
        && !(own.isPresent() && wish.requestedIp().get().equals(own.get().ipAddress()))) {
      String ip = wish.requestedIp().get();
      PublicIpAddressInner users =
          withAddress(wish.pipGroup(), ip, plan.ref().cluster())
              .orElseThrow(
                  () ->
                      new ProviderException.InvalidPlan(
                          wish.requestedIpField(),
                          ip
                              + " is not a public IP of resource group "
                              + wish.pipGroup()
                              + "; reserve it there (or name it with "
                              + AzureWish.PIP_NAME
                              + ")"));
      return usable(users, wish.requestedIpField(), frontendId);
    }
    Map<String, String> tags =
        plan.sharingKey().isPresent()
            ? sharedTags(plan.ref().cluster(), plan.sharingKey().get(), wish)
            : tags(plan.ref(), wish);
    if (own.isPresent()) {
      PublicIpAddressInner pip = own.get();
      boolean ours =
          plan.sharingKey().isPresent()
              ? plan.sharingKey().get().equals(tagOf(pip, TAG_SHARED))
                  && plan.ref()
                      .cluster()
                      .equals(clusterOf(pip.tags() == null ? Map.of() : pip.tags()))
              : ownedBy(pip.tags(), plan.ref());
      if (!ours) {
        throw new ProviderException.Transient(
            "public IP "
                + pip.name()
                + " exists but is not tagged as this Service's; Ferry leaves it alone",
            null);
      }
      // a public IP whose last change failed is repaired by writing it again (ARM's way out of
      // "Failed"; a load balancer referring to it is refused with ReferencedResourceNotProvisioned)
      boolean failed = "Failed".equalsIgnoreCase(state(pip));
      if (!failed && same(pip, wish, tags)) {
        return pip;
      }
    }
    PublicIpAddressInner want =
        new PublicIpAddressInner()
            .withSku(new PublicIpAddressSku().withName(PublicIpAddressSkuName.STANDARD))
            .withPublicIpAllocationMethod(IpAllocationMethod.STATIC)
            .withDnsSettings(
                wish.dnsLabel() == null
                    ? null
                    : new PublicIpAddressDnsSettings().withDomainNameLabel(wish.dnsLabel()))
            .withPublicIpPrefix(
                wish.pipPrefix().isEmpty() ? null : new SubResource().withId(wish.pipPrefix()));
    want.withLocation(s.location()).withTags(tags);
    return arm.put("publicIPAddresses.put", id, want, Map.of(), PublicIpAddressInner::fromJson);
  }

  /** Marks the IPv6 public IP of a Service whose first family is IPv6 (spec.ipFamilies). */
  static final String TAG_PRIMARY = "ferry.dev-primary-family";

  /**
   * The Service's IPv6 public IP, Ferry's always: Standard, Static, {@code IPv6} (<a
   * href="https://learn.microsoft.com/azure/virtual-network/ip-services/public-ip-addresses#ip-address-version">public
   * IP address version</a>), in the cluster's resource group, tagged as the IPv4 one (and {@value
   * #TAG_PRIMARY} when IPv6 is the Service's first family, so a restarted controller answers the
   * addresses in the Service's order).
   */
  PublicIpAddressInner ensureIpv6(LoadBalancerPlan plan, AzureWish wish) throws ProviderException {
    String id = ipv6Id(plan.ref());
    Map<String, String> tags = tags(plan.ref(), wish);
    if (plan.ipFamilies().get(0) == dev.ferry.spi.IpFamily.IPv6) {
      tags.put(TAG_PRIMARY, "IPv6");
    }
    Optional<PublicIpAddressInner> own = get(id);
    if (own.isPresent()) {
      if (!ownedBy(own.get().tags(), plan.ref())) {
        throw new ProviderException.Transient(
            "public IP "
                + own.get().name()
                + " exists but is not tagged as this Service's; Ferry leaves it alone",
            null);
      }
      if (!"Failed".equalsIgnoreCase(state(own.get()))
          && tags.equals(own.get().tags() == null ? Map.of() : own.get().tags())) {
        return own.get();
      }
    }
    PublicIpAddressInner want =
        new PublicIpAddressInner()
            .withSku(new PublicIpAddressSku().withName(PublicIpAddressSkuName.STANDARD))
            .withPublicIpAllocationMethod(IpAllocationMethod.STATIC)
            .withPublicIpAddressVersion(IpVersion.IPV6);
    want.withLocation(s.location()).withTags(tags);
    return arm.put("publicIPAddresses.put", id, want, Map.of(), PublicIpAddressInner::fromJson);
  }

  String ipv6Id(LoadBalancerRef ref) {
    return s.publicIpId(s.resourceGroup(), AzureNames.ipv6(AzureNames.service(ref)));
  }

  /** Deletes the Service's IPv6 public IP if it exists (after its frontend is gone). */
  void deleteIpv6(LoadBalancerRef ref) throws ProviderException {
    Optional<PublicIpAddressInner> pip = get(ipv6Id(ref));
    if (pip.isPresent() && ownedBy(pip.get().tags(), ref)) {
      arm.delete("publicIPAddresses.delete", ipv6Id(ref));
    }
  }

  /** A user's IP, checked: Standard SKU, provisioned, and not another frontend's. */
  private PublicIpAddressInner usable(PublicIpAddressInner pip, String field, String frontendId)
      throws ProviderException {
    String at =
        field.startsWith("spec.") || field.startsWith("metadata.")
            ? field
            : "metadata.annotations[" + field + "]";
    if (pip.sku() == null || pip.sku().name() != PublicIpAddressSkuName.STANDARD) {
      throw new ProviderException.InvalidPlan(
          at,
          "public IP "
              + pip.name()
              + " is of SKU "
              + (pip.sku() == null ? "Basic" : pip.sku().name())
              + "; a Standard Load Balancer takes only Standard public IPs (upgrade it, or use"
              + " another)");
    }
    String attached = pip.ipConfiguration() == null ? null : pip.ipConfiguration().id();
    if (attached != null && !attached.equalsIgnoreCase(frontendId)) {
      throw new ProviderException.InvalidPlan(
          at,
          "public IP "
              + pip.name()
              + " ("
              + pip.ipAddress()
              + ") is already used by "
              + describe(attached)
              + "; Azure lets a public IP serve one frontend only. Use another IP, or remove it"
              + " there first");
    }
    if (!"Succeeded".equalsIgnoreCase(state(pip))) {
      throw new ProviderException.Transient(
          "public IP " + pip.name() + " is " + state(pip) + "; waiting until it is Succeeded",
          null);
    }
    return pip;
  }

  private static String describe(String ipConfigurationId) {
    String[] p = ipConfigurationId.split("/");
    if (ipConfigurationId.toLowerCase().contains("/loadbalancers/") && p.length >= 11) {
      String frontend = p[p.length - 1];
      String lb = p[p.length - 3];
      return (AzureNames.ferrys(frontend) ? "another Service's frontend " : "frontend ")
          + frontend
          + " of load balancer "
          + lb;
    }
    return ipConfigurationId;
  }

  private static String state(PublicIpAddressInner pip) {
    return pip.provisioningState() == null ? "Succeeded" : pip.provisioningState().toString();
  }

  private static boolean same(PublicIpAddressInner pip, AzureWish wish, Map<String, String> tags) {
    String label = pip.dnsSettings() == null ? null : pip.dnsSettings().domainNameLabel();
    String prefix = pip.publicIpPrefix() == null ? "" : pip.publicIpPrefix().id();
    return Objects.equals(label, wish.dnsLabel())
        && prefix.equalsIgnoreCase(wish.pipPrefix())
        && tags.equals(pip.tags() == null ? Map.of() : pip.tags());
  }

  Optional<PublicIpAddressInner> get(String id) throws ProviderException {
    return arm.get("publicIPAddresses.get", id, PublicIpAddressInner::fromJson);
  }

  /**
   * A public IP of the group with this address that is no Service's of Ferry's: the user's, or one
   * retained for {@code cluster} (another cluster's retained IP is not this one's to take).
   */
  private Optional<PublicIpAddressInner> withAddress(String group, String ip, String cluster)
      throws ProviderException {
    return arm
        .list(
            "publicIPAddresses.list", s.publicIpsCollection(group), PublicIpAddressInner::fromJson)
        .stream()
        .filter(p -> ip.equals(p.ipAddress()))
        .filter(
            p ->
                p.tags() == null
                    || !p.tags().containsKey(TAG_UID)
                        && (!retained(p.tags()) || cluster.equals(clusterOf(p.tags()))))
        .findFirst();
  }

  /**
   * Marks a retained public IP: {@value #TAG_RECLAIM}{@code =Retain} beside the cluster and Service
   * tags, and no UID tag, so that no Service's deletion, the leak sweep or {@code listOwned} counts
   * it as a load balancer's any more.
   */
  static final String TAG_RECLAIM = "ferry.dev-reclaim";

  static boolean retained(Map<String, String> tags) {
    return tags != null && "Retain".equals(tags.get(TAG_RECLAIM));
  }

  /** Marks every public IP of {@code ref}'s retained (one per family, in any resource group). */
  void retain(LoadBalancerRef ref) throws ProviderException {
    for (PublicIpAddressInner pip : subscription()) {
      if (pip.id() == null || !ownedBy(pip.tags(), ref)) {
        continue;
      }
      Map<String, String> tags = new LinkedHashMap<>(pip.tags());
      tags.remove(TAG_UID);
      tags.put(TAG_RECLAIM, "Retain");
      // written whole, as read (ARM's PUT replaces; a Static IP keeps its address)
      PublicIpAddressInner want =
          new PublicIpAddressInner()
              .withSku(pip.sku())
              .withPublicIpAllocationMethod(pip.publicIpAllocationMethod())
              .withPublicIpAddressVersion(pip.publicIpAddressVersion())
              .withDnsSettings(
                  pip.dnsSettings() == null || pip.dnsSettings().domainNameLabel() == null
                      ? null
                      : new PublicIpAddressDnsSettings()
                          .withDomainNameLabel(pip.dnsSettings().domainNameLabel()))
              .withPublicIpPrefix(
                  pip.publicIpPrefix() == null
                      ? null
                      : new SubResource().withId(pip.publicIpPrefix().id()));
      want.withLocation(pip.location()).withTags(tags);
      arm.put("publicIPAddresses.put", pip.id(), want, Map.of(), PublicIpAddressInner::fromJson);
    }
  }

  /** The public IPs retained for {@code cluster}, in the subscription. */
  List<RetainedAddress> retainedFor(String cluster) throws ProviderException {
    List<RetainedAddress> out = new ArrayList<>();
    for (PublicIpAddressInner pip : subscription()) {
      Map<String, String> t = pip.tags();
      String service = t == null ? "" : t.getOrDefault(TAG_SERVICE, "");
      if (retained(t)
          && cluster.equals(clusterOf(t))
          && service.contains("/")
          && pip.id() != null
          && pip.ipAddress() != null) {
        String[] ns = service.split("/", 2);
        out.add(
            new RetainedAddress(
                pip.id(), pip.ipAddress(), ns[0], ns[1], pip.ipConfiguration() != null));
      }
    }
    return out;
  }

  /** Deletes the public IP {@code id} retained for {@code cluster}; see the SPI. */
  void deleteRetained(String cluster, String id) throws ProviderException {
    if (!id.toLowerCase(java.util.Locale.ROOT).startsWith("/subscriptions/")) {
      throw new ProviderException.InvalidPlan(
          "id", "'" + id + "' is not a public IP's resource id (/subscriptions/...)");
    }
    Optional<PublicIpAddressInner> found = get(id);
    if (found.isEmpty()) {
      return;
    }
    PublicIpAddressInner pip = found.get();
    if (!retained(pip.tags()) || !cluster.equals(clusterOf(pip.tags()))) {
      throw new ProviderException.InvalidPlan(
          "id", "public IP " + pip.name() + " is not retained for cluster " + cluster);
    }
    if (pip.ipConfiguration() != null) {
      throw new ProviderException.InvalidPlan(
          "id",
          "public IP "
              + pip.name()
              + " ("
              + pip.ipAddress()
              + ") is in use by "
              + describe(pip.ipConfiguration().id())
              + "; delete the Service using it first");
    }
    arm.delete("publicIPAddresses.delete", id);
  }

  /**
   * Deletes the Service's own public IP: at {@code known} (the id its frontend held), else by its
   * name in the cluster's group, else found by its tags in the subscription (made in a Service's
   * own group by a controller that stopped before its frontend was written).
   */
  void deleteOwn(LoadBalancerRef ref, String known) throws ProviderException {
    Set<String> ids = new HashSet<>();
    if (known != null) {
      ids.add(known);
    }
    ids.add(s.publicIpId(s.resourceGroup(), AzureNames.service(ref)));
    boolean gone = true;
    for (String id : ids) {
      Optional<PublicIpAddressInner> pip = get(id);
      if (pip.isPresent() && ownedBy(pip.get().tags(), ref)) {
        arm.delete("publicIPAddresses.delete", id);
        gone = false;
      }
    }
    if (gone) {
      for (PublicIpAddressInner pip : subscription()) {
        if (ownedBy(pip.tags(), ref) && pip.id() != null) {
          arm.delete("publicIPAddresses.delete", pip.id());
        }
      }
    }
  }

  /** Deletes the Service's own public IP where Ferry would have made it, if it is there. */
  void deleteOwnIfPresent(LoadBalancerRef ref, String group) throws ProviderException {
    for (String g : new java.util.TreeSet<>(List.of(s.resourceGroup(), group))) {
      String id = s.publicIpId(g, AzureNames.service(ref));
      Optional<PublicIpAddressInner> pip = get(id);
      if (pip.isPresent() && ownedBy(pip.get().tags(), ref)) {
        arm.delete("publicIPAddresses.delete", id);
      }
    }
  }

  /** The Services whose public IPs Ferry made in this subscription for {@code cluster}. */
  Set<LoadBalancerRef> owned(String cluster) throws ProviderException {
    Set<LoadBalancerRef> out = new HashSet<>();
    for (PublicIpAddressInner pip : subscription()) {
      Map<String, String> t = pip.tags() == null ? Map.of() : pip.tags();
      String service = t.getOrDefault(TAG_SERVICE, t.getOrDefault("k8s-azure-service", ""));
      if (cluster.equals(clusterOf(t)) && t.containsKey(TAG_UID) && service.contains("/")) {
        String[] ns = service.split("/", 2);
        out.add(new LoadBalancerRef(cluster, ns[0], ns[1], t.get(TAG_UID)));
      }
    }
    return out;
  }

  private List<PublicIpAddressInner> subscription() throws ProviderException {
    return arm.list(
        "publicIPAddresses.listAll", s.subscriptionPublicIps(), PublicIpAddressInner::fromJson);
  }

  /** The key a shared public IP serves ({@code ferry.dev/allow-shared-ip}). */
  static final String TAG_SHARED = "ferry.dev-shared-ip";

  /** A shared public IP's tags: the cluster and the key, no Service (it is the key's). */
  static Map<String, String> sharedTags(String cluster, String key, AzureWish wish) {
    Map<String, String> out = new LinkedHashMap<>(wish.pipTags());
    out.put(TAG_CLUSTER, cluster);
    out.put(TAG_SHARED, key);
    return out;
  }

  private static String tagOf(PublicIpAddressInner pip, String key) {
    return pip.tags() == null ? null : pip.tags().get(key);
  }

  /** Deletes the shared public IP {@code id} of {@code cluster} once no frontend uses it. */
  void deleteSharedIfUnused(String id, String cluster) throws ProviderException {
    if (id == null) {
      return;
    }
    Optional<PublicIpAddressInner> pip = get(id);
    if (pip.isPresent()
        && tagOf(pip.get(), TAG_SHARED) != null
        && cluster.equals(clusterOf(pip.get().tags()))
        && pip.get().ipConfiguration() == null) {
      arm.delete("publicIPAddresses.delete", id);
    }
  }

  static Map<String, String> tags(LoadBalancerRef ref, AzureWish wish) {
    Map<String, String> out = new LinkedHashMap<>(wish.pipTags());
    out.put(TAG_SERVICE, ref.serviceKey());
    out.put(TAG_CLUSTER, ref.cluster());
    out.put(TAG_UID, ref.uid());
    return out;
  }

  private static String clusterOf(Map<String, String> tags) {
    return tags.getOrDefault(TAG_CLUSTER, tags.get(LEGACY_CLUSTER));
  }

  static boolean ownedBy(Map<String, String> tags, LoadBalancerRef ref) {
    return tags != null
        && ref.uid().equals(tags.get(TAG_UID))
        && ref.cluster().equals(clusterOf(tags));
  }
}
