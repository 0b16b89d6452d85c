-- Argo CD health check for serving.kalypso.io KalypsoTritonServer.
-- It agrees with kstatus (kubectl wait, Flux): a generation the operator has
-- not observed yet or Reconciling=True is Progressing, Stalled=True is
-- Degraded and Ready=True is Healthy. An object without status, or with no
-- Ready condition yet, is Progressing. Suspended is never returned.

local function find(conditions, wanted)
  if type(conditions) ~= "table" then
    return nil
  end
  for _, c in ipairs(conditions) do
    if type(c) == "table" and c.type == wanted then
      return c
    end
  end
  return nil
end

local function describe(c, fallback)
  if type(c.message) == "string" and c.message ~= "" then
    return c.message
  end
  if type(c.reason) == "string" and c.reason ~= "" then
    return c.reason
  end
  return fallback
end

if obj.status == nil then
  return { status = "Progressing", message = "Waiting for the operator to report status" }
end

local generation = nil
if obj.metadata ~= nil then
  generation = obj.metadata.generation
end
local observed = obj.status.observedGeneration
if type(generation) == "number" and type(observed) == "number" and observed < generation then
  return {
    status = "Progressing",
    message = "Generation " .. generation .. " not observed yet (observed " .. observed .. ")",
  }
end

local conditions = obj.status.conditions

local stalled = find(conditions, "Stalled")
if stalled ~= nil and stalled.status == "True" then
  return { status = "Degraded", message = describe(stalled, "Stalled") }
end

local reconciling = find(conditions, "Reconciling")
if reconciling ~= nil and reconciling.status == "True" then
  return { status = "Progressing", message = describe(reconciling, "Reconciling") }
end

local ready = find(conditions, "Ready")
if ready ~= nil and ready.status == "True" then
  return { status = "Healthy", message = describe(ready, "Ready") }
end
if ready ~= nil then
  return { status = "Progressing", message = describe(ready, "Not ready") }
end

return { status = "Progressing", message = "Waiting for the operator to report conditions" }
