using Ecg2Af.Gateway;
using Ecg2Af.Gateway.Clients;
using Ecg2Af.Gateway.Protection;
using Ecg2Af.Gateway.Routing;
using Ecg2Af.Gateway.Security;
using Ecg2Af.Gateway.Tls;
using Ecg2Af.Gateway.WarmUp;

var builder = WebApplication.CreateBuilder(args);
builder.AddServiceDefaults();
builder.AddTls();
builder.AddClientAddresses();
builder.AddApiKeys();
builder.AddProtection();
builder.AddWorkerRouting();
builder.AddWarmUp();

var app = builder.Build();
// Order matters: security headers on every answer, HSTS and the HTTPS redirect, then the client address (trusted
// proxies only), then routing, the API key check, rate limit (per key, else per client IP) and deadline.
app.UseSecurityHeaders();
app.UseTls();
app.UseServiceDefaults();
app.UseClientAddresses();
app.UseWebForm();
app.UseRouting();
app.UseHttpMetricsAfterRouting();
app.UseGrpcMetrics();
app.UseApiKeys();
app.UseProtection();
app.UseApiReference();
app.MapDefaultEndpoints();
app.MapApiReference();
app.MapWorkerProxy();
app.Run();
