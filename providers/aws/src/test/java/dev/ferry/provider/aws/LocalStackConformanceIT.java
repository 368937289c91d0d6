package dev.ferry.provider.aws;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;
import org.testcontainers.DockerClientFactory;
import org.testcontainers.localstack.LocalStackContainer;
import org.testcontainers.utility.DockerImageName;

/**
 * The same conformance suite against LocalStack through Testcontainers. ELBv2 is in LocalStack's
 * paid image only, which needs {@code LOCALSTACK_AUTH_TOKEN}. Without Docker or without the token
 * every test here is reported as skipped, with the reason, never as passed.
 */
class LocalStackConformanceIT extends AwsConformance {

  private static LocalStackContainer localstack;
  private static AwsAccount account;

  /** Starts LocalStack on first use, or skips the calling test with the reason. */
  @Override
  protected synchronized AwsAccount account() {
    String token = System.getenv("LOCALSTACK_AUTH_TOKEN");
    assumeTrue(
        token != null && !token.isBlank(),
        "SKIPPED: LOCALSTACK_AUTH_TOKEN is not set (LocalStack's free image has no ELBv2)");
    assumeTrue(
        DockerClientFactory.instance().isDockerAvailable(),
        "SKIPPED: no Docker engine for Testcontainers");
    if (account == null) {
      String image =
          System.getenv().getOrDefault("LOCALSTACK_IMAGE", "localstack/localstack-pro:4.14");
      localstack =
          new LocalStackContainer(
                  DockerImageName.parse(image).asCompatibleSubstituteFor("localstack/localstack"))
              .withServices("ec2", "elbv2")
              .withEnv("LOCALSTACK_AUTH_TOKEN", token);
      localstack.start();
      account = AwsAccount.at(localstack.getEndpoint().toString());
    }
    return account;
  }

  @Test
  @DisplayName("LocalStack runs for the AWS suite")
  void localStackRuns() {
    account();
    assertThat(localstack.isRunning()).isTrue();
  }

  @AfterAll
  static void stopLocalStack() {
    if (localstack != null) {
      localstack.stop();
    }
  }
}
