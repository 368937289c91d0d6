package dev.ferry.provider.local;

import java.net.InetAddress;
import java.net.UnknownHostException;
import java.util.Arrays;

/** An address block such as {@code 127.0.100.0/24}; matches addresses of its own family. */
record Cidr(byte[] network, int prefix) {

  static Cidr parse(String text) {
    int slash = text.indexOf('/');
    String host = slash < 0 ? text.trim() : text.substring(0, slash).trim();
    if (!host.matches("[0-9a-fA-F:.]+")) {
      throw new IllegalArgumentException("'" + text + "' is not a CIDR");
    }
    try {
      byte[] address = InetAddress.getByName(host).getAddress();
      int prefix =
          slash < 0 ? address.length * 8 : Integer.parseInt(text.substring(slash + 1).trim());
      if (prefix < 0 || prefix > address.length * 8) {
        throw new IllegalArgumentException("'" + text + "' has a prefix out of range");
      }
      return new Cidr(mask(address, prefix), prefix);
    } catch (UnknownHostException | NumberFormatException e) {
      throw new IllegalArgumentException("'" + text + "' is not a CIDR", e);
    }
  }

  boolean contains(InetAddress address) {
    byte[] bytes = address.getAddress();
    return bytes.length == network.length && Arrays.equals(mask(bytes, prefix), network);
  }

  /** The number of addresses in the block, capped at {@code Integer.MAX_VALUE}. */
  long size() {
    int hostBits = network.length * 8 - prefix;
    return hostBits >= 31 ? Integer.MAX_VALUE : 1L << hostBits;
  }

  /** The {@code i}-th address of the block. */
  InetAddress address(long i) {
    byte[] bytes = network.clone();
    long carry = i;
    for (int b = bytes.length - 1; b >= 0 && carry > 0; b--) {
      long sum = (bytes[b] & 0xff) + (carry & 0xff);
      bytes[b] = (byte) sum;
      carry = (carry >>> 8) + (sum >>> 8);
    }
    try {
      return InetAddress.getByAddress(bytes);
    } catch (UnknownHostException e) {
      throw new IllegalStateException(e);
    }
  }

  private static byte[] mask(byte[] address, int prefix) {
    byte[] out = address.clone();
    for (int bit = prefix; bit < out.length * 8; bit++) {
      out[bit / 8] &= (byte) ~(0x80 >>> (bit % 8));
    }
    return out;
  }

  @Override
  public boolean equals(Object o) {
    return o instanceof Cidr c && c.prefix == prefix && Arrays.equals(c.network, network);
  }

  @Override
  public int hashCode() {
    return Arrays.hashCode(network) * 31 + prefix;
  }

  @Override
  public String toString() {
    try {
      return InetAddress.getByAddress(network).getHostAddress() + "/" + prefix;
    } catch (UnknownHostException e) {
      return Arrays.toString(network) + "/" + prefix;
    }
  }
}
