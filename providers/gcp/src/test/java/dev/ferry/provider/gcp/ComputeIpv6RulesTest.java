package dev.ferry.provider.gcp;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

/**
 * The fake's IPv6 rules, each refused as Compute documents it (the pages are cited in {@link
 * ComputeAddressRules} and {@link ComputeRules}), sent as raw JSON.
 */
class ComputeIpv6RulesTest extends ComputeHttpTest {

  private static final String V6_ADDRESS =
      "{\"name\":\"ferry-v6\",\"addressType\":\"EXTERNAL\",\"ipVersion\":\"IPV6\","
          + "\"ipv6EndpointType\":\"NETLB\",\"subnetwork\":\""
          + SUBNET
          + "\"";

  @Test
  @DisplayName(
      "reserve-static-external-ip-address: an external IPv6 address needs a subnet with external"
          + " IPv6 ranges, an endpoint type, and the Premium tier; it is a /96 of the subnet's /64")
  void address() throws Exception {
    Answer ipv4Subnet = insert(REGION + "/addresses", V6_ADDRESS + "}");
    assertThat(ipv4Subnet.status()).isEqualTo(400);
    assertThat(ipv4Subnet.text()).contains("does not have external IPv6 ranges");

    GkeProject.dualStack(fake);
    Answer noType =
        insert(
            REGION + "/addresses", V6_ADDRESS.replace(",\"ipv6EndpointType\":\"NETLB\"", "") + "}");
    assertThat(noType.text()).contains("ipv6EndpointType");
    Answer standard = insert(REGION + "/addresses", V6_ADDRESS + ",\"networkTier\":\"STANDARD\"}");
    assertThat(standard.text()).contains("Premium Tier only");
    Answer made = insert(REGION + "/addresses", V6_ADDRESS + "}");
    assertThat(made.body().has("error")).as(made.text()).isFalse();
    var address = call("GET", REGION + "/addresses/ferry-v6", null).body();
    assertThat(address.get("address").getAsString()).startsWith("2600:1900:4010:5a:0:");
    assertThat(address.get("prefixLength").getAsInt()).isEqualTo(96);
    assertThat(address.get("networkTier").getAsString()).isEqualTo("PREMIUM");
  }

  @Test
  @DisplayName(
      "discovery ForwardingRule.subnetwork and IPAddress: an external IPv6 rule names its subnet"
          + " and a reserved /96 range, ipVersion IPV6, Premium tier")
  void forwardingRule() throws Exception {
    GkeProject.dualStack(fake);
    assertThat(insert(REGION + "/addresses", V6_ADDRESS + "}").body().has("error")).isFalse();
    String ip =
        call("GET", REGION + "/addresses/ferry-v6", null).body().get("address").getAsString();
    String bs = backendService("ferry-bs", "EXTERNAL", "TCP");
    String rule =
        "{\"name\":\"ferry-r\",\"IPProtocol\":\"TCP\",\"ports\":[\"80\"],\"backendService\":\""
            + bs
            + "\"";
    Answer noSubnet =
        insert(
            REGION + "/forwardingRules",
            rule + ",\"ipVersion\":\"IPV6\",\"IPAddress\":\"" + ip + "/96\"}");
    assertThat(noSubnet.text()).contains("A subnetwork must be specified");
    String v6 = rule + ",\"ipVersion\":\"IPV6\",\"subnetwork\":\"" + SUBNET + "\"";
    Answer bare = insert(REGION + "/forwardingRules", v6 + ",\"IPAddress\":\"" + ip + "\"}");
    assertThat(bare.text()).contains("/96 range");
    Answer standard =
        insert(
            REGION + "/forwardingRules",
            v6 + ",\"IPAddress\":\"" + ip + "/96\",\"networkTier\":\"STANDARD\"}");
    assertThat(standard.text()).contains("Premium Tier only");
    Answer noVersion =
        insert(
            REGION + "/forwardingRules",
            rule + ",\"subnetwork\":\"" + SUBNET + "\",\"IPAddress\":\"" + ip + "/96\"}");
    assertThat(noVersion.text()).contains("ipVersion must be IPV6");
    Answer unreserved =
        insert(REGION + "/forwardingRules", v6 + ",\"IPAddress\":\"2600:1900:4010:5a:0:ff::/96\"}");
    assertThat(unreserved.text()).contains("not reserved");
    Answer made = insert(REGION + "/forwardingRules", v6 + ",\"IPAddress\":\"" + ip + "/96\"}");
    assertThat(made.body().has("error")).as(made.text()).isFalse();
    Answer inUse = call("DELETE", REGION + "/addresses/ferry-v6", null);
    assertThat(inUse.text()).as("the rule holds the range").contains("already being used");
  }

  @Test
  @DisplayName(
      "firewalls#rule_assignment: one family a rule, its sources and destinations alike (IPv6"
          + " sources to an IPv4 destination are refused)")
  void firewallFamilies() throws Exception {
    String fw =
        "{\"name\":\"ferry-fw\",\"network\":\""
            + NET
            + "\",\"allowed\":[{\"IPProtocol\":\"tcp\",\"ports\":[\"80\"]}],\"targetTags\":[\""
            + GkeProject.NODE_TAG
            + "\"],";
    Answer mixed =
        insert(
            GLOBAL + "/firewalls",
            fw + "\"sourceRanges\":[\"2001:db8::/32\"],\"destinationRanges\":[\"34.118.0.2\"]}");
    assertThat(mixed.status()).isEqualTo(400);
    assertThat(mixed.text()).contains("cannot be mixed");
    Answer v6 =
        insert(
            GLOBAL + "/firewalls",
            fw
                + "\"sourceRanges\":[\"2001:db8::/32\"],"
                + "\"destinationRanges\":[\"2600:1900:4010:5a:0:1::\"]}");
    assertThat(v6.body().has("error")).as(v6.text()).isFalse();
  }
}
