package dev.ferry.cluster;

import static org.assertj.core.api.Assertions.assertThat;

import com.marcnuri.helm.Helm;
import com.marcnuri.helm.Release;
import io.fabric8.kubernetes.api.model.apps.Deployment;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

/** helm install of the chart into the real API server (no kubelet runs here, so no pod starts). */
class ChartInstallIT {

  @Test
  @DisplayName(
      "the chart installs: Deployment, ServiceAccount, RBAC, PDB and metrics Service are created")
  void install() throws Exception {
    RealApiServer api = RealApiServer.get();
    Release release =
        new Helm(RealApiServer.HOME.resolve("charts/ferry"))
            .install()
            .withKubeConfigContents(api.adminKubeconfig)
            .withName("edge")
            .withNamespace("ferry-install")
            .createNamespace()
            .withValuesFile(RealApiServer.HOME.resolve("charts/ferry/ci/aws-values.yaml"))
            .call();
    assertThat(release.getStatus()).isEqualTo("deployed");
    Deployment d =
        api.admin.apps().deployments().inNamespace("ferry-install").withName("edge-ferry").get();
    assertThat(d.getSpec().getReplicas()).isEqualTo(2);
    assertThat(d.getSpec().getTemplate().getSpec().getContainers().get(0).getArgs())
        .contains("--provider=aws", "--cluster-name=prod-eu");
    assertThat(
            api.admin
                .serviceAccounts()
                .inNamespace("ferry-install")
                .withName("edge-ferry")
                .get()
                .getMetadata()
                .getAnnotations())
        .containsEntry("eks.amazonaws.com/role-arn", "arn:aws:iam::123456789012:role/ferry");
    assertThat(api.admin.rbac().clusterRoles().withName("edge-ferry").get()).isNotNull();
    assertThat(
            api.admin
                .policy()
                .v1()
                .podDisruptionBudget()
                .inNamespace("ferry-install")
                .withName("edge-ferry")
                .get())
        .isNotNull();
    assertThat(
            api.admin.services().inNamespace("ferry-install").withName("edge-ferry-metrics").get())
        .isNotNull();
  }
}
