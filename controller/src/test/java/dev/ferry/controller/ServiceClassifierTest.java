package dev.ferry.controller;

import static org.assertj.core.api.Assertions.assertThat;

import io.fabric8.kubernetes.api.model.Service;
import io.fabric8.kubernetes.api.model.ServiceBuilder;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

class ServiceClassifierTest {

  private final ServiceClassifier ferry =
      new ServiceClassifier("ferry.dev/lb", true, "ferry-system/ferry");

  private static ServiceBuilder classless() {
    return new ServiceBuilder()
        .withNewMetadata()
        .withNamespace("shop")
        .withName("web")
        .endMetadata()
        .withNewSpec()
        .withType("LoadBalancer")
        .endSpec();
  }

  private static Service servedBy(ServiceBuilder b, String hostname) {
    return b.withNewStatus()
        .withNewLoadBalancer()
        .addNewIngress()
        .withHostname(hostname)
        .endIngress()
        .endLoadBalancer()
        .endStatus()
        .build();
  }

  @Test
  @DisplayName(
      "a class-less Service that shows another controller's address (EKS's own) is never taken"
          + " over; a new one is; one Ferry took keeps being Ferry's; a class hands it over")
  void neverTakesOverAnotherControllersService() {
    assertThat(ferry.wantsLoadBalancer(classless().build())).isTrue();
    Service elsewhere = servedBy(classless(), "k8s-shop-web-123.elb.amazonaws.com");
    assertThat(ferry.wantsLoadBalancer(elsewhere)).isFalse();
    assertThat(ferry.mustCleanUp(elsewhere)).isFalse();

    Service ours =
        servedBy(
            classless().editMetadata().addToFinalizers(ServiceClassifier.FINALIZER).endMetadata(),
            "ferry-abc.elb.amazonaws.com");
    assertThat(ferry.wantsLoadBalancer(ours)).isTrue();

    Service handedOver =
        servedBy(
            classless().editSpec().withLoadBalancerClass("ferry.dev/lb").endSpec(),
            "k8s-shop-web-123.elb.amazonaws.com");
    assertThat(ferry.wantsLoadBalancer(handedOver)).isTrue();
  }
}
