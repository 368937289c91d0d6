package dev.ferry.spi;

/**
 * The version of this contract. A provider declares the version it was compiled against by
 * returning {@link #CURRENT} from {@link LoadBalancerProviderFactory#spiVersion()}: the constant is
 * copied into the provider's class when it is compiled, so a provider built against another version
 * says so. The controller accepts a provider built for the same major version and a minor version
 * up to its own, and refuses any other at start-up, naming both versions.
 */
public final class SpiVersion {

  /** This contract's version, {@code major.minor}. */
  public static final String CURRENT = "1.4";

  private SpiVersion() {}

  /**
   * Whether a provider built for {@code declared} runs on this contract.
   *
   * @throws IllegalArgumentException when {@code declared} is not {@code major.minor}
   */
  public static boolean accepts(String declared) {
    int[] have = parse(CURRENT);
    int[] want = parse(declared);
    return want[0] == have[0] && want[1] <= have[1];
  }

  private static int[] parse(String version) {
    String[] parts = version == null ? new String[0] : version.split("\\.");
    try {
      if (parts.length == 2) {
        return new int[] {Integer.parseInt(parts[0]), Integer.parseInt(parts[1])};
      }
    } catch (NumberFormatException e) {
      // reported below
    }
    throw new IllegalArgumentException("'" + version + "' is not an SPI version (major.minor)");
  }
}
