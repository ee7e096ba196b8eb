package io.annflight.flight;

import java.util.function.Function;
import org.apache.arrow.flight.FlightRuntimeException;
import org.apache.arrow.memory.BufferAllocator;

/**
 * What every DoGet stream of a server shares: the allocator its buffers come from, who may
 * fill ahead, the memory budget, and how failures are told to clients.
 */
record StreamServices(BufferAllocator allocator, FillAhead fillAhead, StreamMemoryBudget budget,
    Function<Throwable, FlightRuntimeException> errors) {}
