Console.WriteLine("ecg2af");
