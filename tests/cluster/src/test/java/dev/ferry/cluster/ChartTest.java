package dev.ferry.cluster;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.marcnuri.helm.Helm;
import com.marcnuri.helm.LintResult;
import java.nio.file.Path;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The Helm chart through helm-java (Helm as a native library): strict lint, and templates per
 * provider.
 */
class ChartTest {

  static final Path CHART =
      Path.of(System.getProperty("ferry.home", "../..")).resolve("charts/ferry");

  private static String template(String valuesFile) {
    return new Helm(CHART)
        .template()
        .withKubeVersion("1.34.0")
        .withName("ferry")
        .withNamespace("ferry-system")
        .withValuesFile(CHART.resolve("ci").resolve(valuesFile))
        .call();
  }

  @Test
  @DisplayName("the chart passes helm lint --strict")
  void lint() {
    LintResult result = new Helm(CHART).lint().strict().call();
    assertThat(result.isFailed()).as(String.join("\n", result.getMessages())).isFalse();
  }

  @ParameterizedTest
  @ValueSource(
      strings = {
        "aws-values.yaml",
        "gcp-values.yaml",
        "azure-values.yaml",
        "local-values.yaml",
        "secret-values.yaml",
        "plugin-values.yaml"
      })
  @DisplayName(
      "every provider's values render a Deployment with hardened pods and least-privilege RBAC")
  void templates(String values) {
    String out = template(values);
    assertThat(out)
        .contains("kind: Deployment", "kind: ClusterRole", "kind: ServiceAccount")
        .contains(
            "runAsNonRoot: true", "readOnlyRootFilesystem: true", "- ALL", "type: RuntimeDefault")
        .contains("path: /healthz", "path: /readyz")
        .contains("resources: [services/status]\n    verbs: [patch]")
        .doesNotContain("verbs: [\"*\"]", "resources: [\"*\"]", "- secrets");
  }

  @Test
  @DisplayName(
      "aws values: provider flags, IRSA annotation, two replicas with a PodDisruptionBudget and the Lease role")
  void awsValues() {
    String out = template("aws-values.yaml");
    assertThat(out)
        .contains(
            "--provider=aws", "--provider-setting=aws.region=eu-west-1", "--cluster-name=prod-eu")
        .contains("eks.amazonaws.com/role-arn: arn:aws:iam::123456789012:role/ferry")
        .contains(
            "replicas: 2", "kind: PodDisruptionBudget", "resources: [leases]", "--leader-elect")
        // on EKS the cloud's controller serves class-less Services: not Ferry, unless asked
        .contains("--no-handle-default-class");
    assertThat(template("local-values.yaml")).contains("--handle-default-class");
  }

  @Test
  @DisplayName(
      "gcp values: project and region settings, Workload Identity or a key file from a Secret,"
          + " class-less Services left to GKE's controller")
  void gcpValues() {
    assertThat(template("gcp-values.yaml"))
        .contains(
            "--provider=gcp",
            "--provider-setting=gcp.project=shop-prod",
            "--provider-setting=gcp.region=europe-west1",
            "--no-handle-default-class")
        .contains("iam.gke.io/gcp-service-account: ferry@shop-prod.iam.gserviceaccount.com")
        .contains(
            "name: GOOGLE_APPLICATION_CREDENTIALS\n              value: /var/run/secrets/ferry/google/key.json")
        .contains("secretName: ferry-google-key");
    assertThatThrownBy(
            () ->
                new Helm(CHART)
                    .template()
                    .withKubeVersion("1.34.0")
                    .set("provider.name", "gcp")
                    .set("provider.settings.gcp\\.project", "p")
                    .call())
        .as("the region is required")
        .hasMessageContaining("gcp.region");
  }

  @Test
  @DisplayName(
      "azure values: cloud-provider-azure's settings, Workload Identity, class-less Services left"
          + " to AKS's controller")
  void azureValues() {
    assertThat(template("azure-values.yaml"))
        .contains(
            "--provider=azure",
            "--provider-setting=azure.resource-group=mc_shop_prod_westeurope",
            "--provider-setting=azure.security-group=aks-agentpool-12345678-nsg",
            "--no-handle-default-class")
        .contains("azure.workload.identity/use: \"true\"");
    assertThatThrownBy(
            () ->
                new Helm(CHART)
                    .template()
                    .withKubeVersion("1.34.0")
                    .set("provider.name", "azure")
                    .set("provider.settings.azure\\.location", "westeurope")
                    .call())
        .as("the subscription, resource group and VNet are required")
        .hasMessageContaining("azure.subscription-id");
  }

  @Test
  @DisplayName("credentials come from an existing Secret, and a ServiceMonitor on request")
  void secretValues() {
    assertThat(template("secret-values.yaml"))
        .contains(
            "secretRef:\n                name: ferry-aws-credentials", "kind: ServiceMonitor");
  }

  @Test
  @DisplayName(
      "the chart's default image is the reference hack/image.sh builds: repository and appVersion")
  void imageMatchesBuild() throws Exception {
    Process p =
        new ProcessBuilder(RealApiServer.HOME.resolve("hack/image.sh").toString(), "--print-name")
            .redirectErrorStream(true)
            .start();
    String built = new String(p.getInputStream().readAllBytes()).strip();
    assertThat(p.waitFor()).isZero();
    assertThat(built).matches("ferry/controller:[0-9][^ ]*");
    assertThat(template("aws-values.yaml")).contains("image: \"" + built + "\"");
  }

  @Test
  @DisplayName(
      "plugin values: an init container copies the plugin's jars into the plugin directory the"
          + " controller reads")
  void pluginValues() {
    assertThat(template("plugin-values.yaml"))
        .contains("--provider=haproxy", "--provider-setting=haproxy.address-pool=192.168.50.224/28")
        .contains(
            "- name: plugin-haproxy",
            "image: \"registry.example.com/ferry-haproxy-provider:1.0.0\"")
        .contains("cp -R /plugin/. /opt/ferry/plugins/haproxy/")
        .contains("mountPath: /opt/ferry/plugins\n              readOnly: true");
  }

  @Test
  @DisplayName(
      "local values: host network, one replica replaced with Recreate (never two serving at once)")
  void localValues() {
    assertThat(template("local-values.yaml"))
        .contains("--provider=local", "hostNetwork: true", "dnsPolicy: ClusterFirstWithHostNet")
        .contains("replicas: 1", "type: Recreate")
        .doesNotContain("kind: PodDisruptionBudget", "maxSurge");
  }

  @Test
  @DisplayName(
      "the schema takes any provider name (plugins), checks the in-tree providers' settings, and"
          + " refuses credentials in values")
  void schema() {
    assertThat(
            new Helm(CHART)
                .template()
                .withKubeVersion("1.34.0")
                .set("provider.name", "haproxy")
                .set("provider.settings.haproxy\\.socket", "/run/haproxy.sock")
                .call())
        .contains("--provider=haproxy", "--provider-setting=haproxy.socket=/run/haproxy.sock");
    assertThatThrownBy(
            () ->
                new Helm(CHART)
                    .template()
                    .withKubeVersion("1.34.0")
                    .set("provider.name", "No Such")
                    .call())
        .hasMessageContaining("/provider/name");
    assertThatThrownBy(
            () ->
                new Helm(CHART)
                    .template()
                    .withKubeVersion("1.34.0")
                    .set("provider.name", "aws")
                    .set("provider.settings.aws\\.zone", "x")
                    .call())
        .hasMessageContaining("invalid propertyName 'aws.zone'")
        .hasMessageContaining("'aws.region', 'aws.endpoint'");
    assertThatThrownBy(
            () ->
                new Helm(CHART)
                    .template()
                    .withKubeVersion("1.34.0")
                    .set("provider.settings.aws\\.secret-access-key", "x")
                    .call())
        .hasMessageContaining("/provider/settings");
  }
}
