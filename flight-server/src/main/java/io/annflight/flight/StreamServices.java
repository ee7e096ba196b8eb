package io.annflight.flight;

import io.annflight.flight.metrics.ServerMetrics;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Function;
import org.apache.arrow.flight.FlightRuntimeException;
import org.apache.arrow.memory.BufferAllocator;

/**
 * What every DoGet stream of a server shares: the allocator its buffers come from, who may
 * fill ahead, the memory budget, where ended streams leave their allocators, how many streams
 * run, how failures are told to clients, and where they report what they sent.
 */
record StreamServices(BufferAllocator allocator, FillAhead fillAhead, StreamMemoryBudget budget,
    RetiredAllocators retired, AtomicInteger running,
    Function<Throwable, FlightRuntimeException> errors, ServerMetrics metrics) {}
