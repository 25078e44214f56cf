"""pacsys-dpm: pacsys transport: DPM over TCP (PC encoding), client backend and server adapter."""
