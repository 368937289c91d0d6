package dev.ferry.sim;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

class TokenBucketTest {

  @Test
  void tokensInHandCoverACallThatReachesTheCloudLate() throws Exception {
    // 3 at once, then 4/s; the first call reaches the cloud 100 ms after it took its token, while
    // the cloud's bucket is full: the cloud drops 0.4 tokens of refill the client has counted
    TokenBucket cloud = new TokenBucket("cloud", 3, 4);
    TokenBucket client = new TokenBucket("client", 3, 4);
    long first = client.reserve(1);
    Thread.sleep(100);
    assertThat(first).isZero();
    assertThat(cloud.tryTake()).isTrue();
    int refused = 0;
    for (int i = 0; i < 6; i++) {
      client.take(1);
      refused += cloud.tryTake() ? 0 : 1;
    }
    assertThat(refused).isZero();
  }

  @Test
  void reserveAnswersWhenTheTokenIsDue() {
    TokenBucket b = new TokenBucket("b", 2, 1);
    long first = b.reserve(1);
    long second = b.reserve(1);
    long third = b.reserve(1);
    long fourth = b.reserve(0);
    assertThat(first).isZero();
    // the second would leave none in hand: due after a second's refill, less what came meanwhile
    assertThat(second).isBetween(500_000_000L, 1_000_000_000L);
    // the third is one token beyond that: due a second after it
    assertThat(third - second).isBetween(990_000_000L, 1_000_000_000L);
    // with no token kept in hand, the fourth is due with the third
    assertThat(fourth - third).isBetween(-10_000_000L, 0L);
  }
}
