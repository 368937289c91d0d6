package dev.ferry.provider.azure;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import java.util.List;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

/** The evaluator catches what it is there to catch. */
class NsgExposureTest {

  private static JsonNode nsg(String rule) throws Exception {
    try (ArmFake fake = new ArmFake()) {
      String id = AzureFixture.network("rg", "networkSecurityGroups", "n");
      fake.seed(
          id,
          "{\"location\":\"westeurope\",\"properties\":{\"securityRules\":[{\"name\":\"r\","
              + "\"properties\":{\"priority\":500,\"direction\":\"Inbound\",\"access\":\"Allow\","
              + "\"protocol\":\"Tcp\",\"sourcePortRange\":\"*\","
              + rule
              + "}}]}}");
      return fake.get(id);
    }
  }

  @Test
  @DisplayName(
      "a rule open to every destination is reported for the address that is not the frontend's;"
          + " one from the wrong range for the client it admits; Azure's DenyAllInBound closes the rest")
  void catchesTooOpen() throws Exception {
    JsonNode anyDestination =
        nsg(
            "\"sourceAddressPrefix\":\"*\",\"destinationAddressPrefix\":\"*\","
                + "\"destinationPortRange\":\"80\"");
    assertThat(
            NsgExposure.problems(
                anyDestination, "Tcp", "20.61.0.5", 80, List.of("1.2.3.4"), List.of(), "20.61.9.9"))
        .singleElement()
        .asString()
        .contains("20.61.9.9:80");
    JsonNode wide =
        nsg(
            "\"sourceAddressPrefix\":\"Internet\",\"destinationAddressPrefix\":\"20.61.0.5\","
                + "\"destinationPortRanges\":[\"80\",\"8000-8100\"]");
    assertThat(
            NsgExposure.problems(
                wide, "Tcp", "20.61.0.5", 80, List.of(), List.of("198.51.100.7"), "20.61.9.9"))
        .singleElement()
        .asString()
        .contains("198.51.100.7 -> 20.61.0.5:80 is admitted");
    assertThat(NsgExposure.admits(wide, "Tcp", "10.1.2.3", "20.61.0.5", 80))
        .as("Internet is no private address")
        .isFalse();
    assertThat(NsgExposure.admits(wide, "Tcp", "198.51.100.7", "20.61.0.5", 8050)).isTrue();
    assertThat(NsgExposure.admits(wide, "Udp", "198.51.100.7", "20.61.0.5", 80)).isFalse();
  }
}
