package dev.ferry.provider.aws;

import org.junit.jupiter.api.extension.ExtendWith;

/** The AWS provider against the conformance kit, on moto server (reset before each test). */
@ExtendWith(MotoServer.class)
class AwsProviderConformanceTest extends AwsConformance {

  private static final AwsAccount account = AwsAccount.connect();

  @Override
  protected AwsAccount account() {
    return account;
  }
}
