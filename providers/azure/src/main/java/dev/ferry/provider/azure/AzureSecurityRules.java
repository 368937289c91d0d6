package dev.ferry.provider.azure;

import com.azure.resourcemanager.network.fluent.models.NetworkSecurityGroupInner;
import com.azure.resourcemanager.network.fluent.models.SecurityRuleInner;
import com.azure.resourcemanager.network.models.SecurityRuleAccess;
import com.azure.resourcemanager.network.models.SecurityRuleDirection;
import com.azure.resourcemanager.network.models.SecurityRuleProtocol;
import dev.ferry.spi.IpFamily;
import dev.ferry.spi.Listener;
import dev.ferry.spi.LoadBalancerPlan;
import dev.ferry.spi.LoadBalancerRef;
import dev.ferry.spi.ProviderException;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.concurrent.locks.ReentrantLock;

/**
 * A Service's allow rules on the cluster's network security group: per family served and protocol,
 * its ports, from its source ranges of that family (a rule holds one IP family: Azure refuses a
 * mix), to that family's frontend address only; one more rule per Azure service tag it admits. A
 * family with no range of its own gets no rule: it stays closed. The IPv6 rules are named as the
 * IPv4 ones plus {@code -IPv6}.
 */
final class AzureSecurityRules {

  private static final int FIRST_PRIORITY = 500;
  private static final int LAST_PRIORITY = 4096;

  private final Arm arm;
  private final AzureSettings s;
  // not a monitor: the holder waits on ARM calls (see AzureLbWriter)
  private final ReentrantLock lock = new ReentrantLock();

  AzureSecurityRules(Arm arm, AzureSettings settings) {
    this.arm = arm;
    this.s = settings;
  }

  /** The rules {@code plan} wants at its IPv4 frontend, by name (priority not yet set). */
  static Map<String, SecurityRuleInner> wanted(
      LoadBalancerPlan plan, AzureWish wish, String frontendIp) {
    return wanted(plan, wish, Map.of(IpFamily.IPv4, frontendIp));
  }

  /**
   * The rules {@code plan} wants, by name (priority not yet set).
   *
   * @param frontendIps the frontend address of each family served
   */
  static Map<String, SecurityRuleInner> wanted(
      LoadBalancerPlan plan, AzureWish wish, Map<IpFamily, String> frontendIps) {
    LoadBalancerRef ref = plan.ref();
    Map<String, Set<Integer>> ports = new TreeMap<>();
    for (Listener l : plan.listeners()) {
      ports.computeIfAbsent(l.protocol().name(), p -> new TreeSet<>()).add(l.port());
    }
    Map<String, SecurityRuleInner> out = new LinkedHashMap<>();
    for (Map.Entry<IpFamily, String> f : new TreeMap<>(frontendIps).entrySet()) {
      IpFamily family = f.getKey();
      String frontendIp = f.getValue();
      List<String> sources = plan.sourceRanges(family);
      for (Map.Entry<String, Set<Integer>> e : ports.entrySet()) {
        List<String> portRanges = e.getValue().stream().map(String::valueOf).toList();
        if (!sources.isEmpty()) {
          out.put(
              AzureNames.of(AzureNames.securityRule(ref, e.getKey()), family),
              allow(e.getKey(), portRanges, frontendIp, ref).withSourceAddressPrefixes(sources));
        }
        for (int i = 0; i < wish.serviceTags().size(); i++) {
          out.put(
              AzureNames.of(AzureNames.securityRule(ref, e.getKey(), i + 1), family),
              allow(e.getKey(), portRanges, frontendIp, ref)
                  .withSourceAddressPrefix(wish.serviceTags().get(i)));
        }
      }
    }
    return out;
  }

  private static SecurityRuleInner allow(
      String protocol, List<String> ports, String frontendIp, LoadBalancerRef ref) {
    return new SecurityRuleInner()
        .withProtocol(protocol.equals("UDP") ? SecurityRuleProtocol.UDP : SecurityRuleProtocol.TCP)
        .withAccess(SecurityRuleAccess.ALLOW)
        .withDirection(SecurityRuleDirection.INBOUND)
        .withSourcePortRange("*")
        .withDestinationAddressPrefix(frontendIp)
        .withDestinationPortRanges(ports)
        .withDescription(ref.serviceKey());
  }

  void ensure(LoadBalancerPlan plan, AzureWish wish, Map<IpFamily, String> frontendIps)
      throws ProviderException {
    if (s.securityGroup().isEmpty()) {
      return;
    }
    LoadBalancerRef ref = plan.ref();
    Map<String, SecurityRuleInner> wanted = wanted(plan, wish, frontendIps);
    lock.lock();
    try {
      NetworkSecurityGroupInner nsg =
          read()
              .orElseThrow(
                  () ->
                      new ProviderException.Transient(
                          "network security group "
                              + s.securityGroup()
                              + " does not exist in resource group "
                              + s.resourceGroup(),
                          null));
      Map<String, SecurityRuleInner> have = new TreeMap<>();
      Set<Integer> taken = new TreeSet<>();
      int count = 0;
      for (SecurityRuleInner r : AzureLbShape.list(nsg.securityRules())) {
        count++;
        if (r.direction() == null || r.direction() == SecurityRuleDirection.INBOUND) {
          taken.add(r.priority());
        }
        if (AzureNames.owns(ref, r.name())) {
          have.put(r.name(), r);
        }
      }
      int added = (int) wanted.keySet().stream().filter(n -> !have.containsKey(n)).count();
      int after =
          count + added - (int) have.keySet().stream().filter(n -> !wanted.containsKey(n)).count();
      if (added > 0 && after > s.limits().securityRules()) {
        throw new ProviderException.QuotaExceeded(
            "network security group "
                + s.securityGroup()
                + " would hold "
                + after
                + " rules; Azure allows "
                + s.limits().securityRules()
                + " per group",
            null);
      }
      List<String> order = new ArrayList<>(wanted.keySet());
      for (String name : order) {
        SecurityRuleInner want = wanted.get(name);
        SecurityRuleInner old = have.remove(name);
        int priority = old != null ? old.priority() : free(taken, name);
        want.withPriority(priority);
        taken.add(priority);
        if (old == null || !same(old, want)) {
          arm.put(
              "securityRules.put",
              s.securityRuleId(name),
              want,
              Map.of(),
              SecurityRuleInner::fromJson);
        }
      }
      for (String gone : have.keySet()) {
        arm.delete("securityRules.delete", s.securityRuleId(gone));
      }
    } finally {
      lock.unlock();
    }
  }

  void delete(LoadBalancerRef ref) throws ProviderException {
    if (s.securityGroup().isEmpty()) {
      return;
    }
    lock.lock();
    try {
      for (SecurityRuleInner r :
          read()
              .map(NetworkSecurityGroupInner::securityRules)
              .map(AzureLbShape::list)
              .orElse(List.of())) {
        if (AzureNames.owns(ref, r.name())) {
          arm.delete("securityRules.delete", s.securityRuleId(r.name()));
        }
      }
    } finally {
      lock.unlock();
    }
  }

  private Optional<NetworkSecurityGroupInner> read() throws ProviderException {
    return arm.get(
        "networkSecurityGroups.get", s.securityGroupId(), NetworkSecurityGroupInner::fromJson);
  }

  /**
   * The first free inbound priority from a start derived from the rule's name (few collisions with
   * another writer picking at the same time); Azure's range is 100 to 4096, and Ferry leaves 100 to
   * 499 to the cluster's operators.
   */
  static int free(Set<Integer> taken, String name) throws ProviderException.QuotaExceeded {
    int span = LAST_PRIORITY - FIRST_PRIORITY + 1;
    int start = Math.floorMod(name.hashCode(), span);
    for (int i = 0; i < span; i++) {
      int p = FIRST_PRIORITY + (start + i) % span;
      if (!taken.contains(p)) {
        return p;
      }
    }
    throw new ProviderException.QuotaExceeded(
        "every inbound priority from "
            + FIRST_PRIORITY
            + " to "
            + LAST_PRIORITY
            + " of the network security group is taken; free some",
        null);
  }

  private static boolean same(SecurityRuleInner a, SecurityRuleInner b) {
    return Objects.equals(a.protocol(), b.protocol())
        && Objects.equals(a.sourceAddressPrefix(), b.sourceAddressPrefix())
        && new TreeSet<>(AzureLbShape.list(a.sourceAddressPrefixes()))
            .equals(new TreeSet<>(AzureLbShape.list(b.sourceAddressPrefixes())))
        && Objects.equals(a.destinationAddressPrefix(), b.destinationAddressPrefix())
        && new TreeSet<>(AzureLbShape.list(a.destinationPortRanges()))
            .equals(new TreeSet<>(AzureLbShape.list(b.destinationPortRanges())));
  }
}
