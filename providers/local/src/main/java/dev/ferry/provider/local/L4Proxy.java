package dev.ferry.provider.local;

/** A bound TCP or UDP proxy port; closing it frees the port before {@code close} returns. */
public sealed interface L4Proxy extends AutoCloseable permits TcpProxy, UdpProxy {

  @Override
  void close();
}
