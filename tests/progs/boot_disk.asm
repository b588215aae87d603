; SPDX-License-Identifier: GPL-2.0-or-later
;
; Boot disk test: a raw hard-disk image booted by SeaBIOS (or any PC BIOS)
; that walks through what a real boot loader and an early kernel do, printing
; a marker on COM1 before each step so a failing run says where it stopped:
;
;   [boot] mbr              the BIOS loaded sector 0 to 7C00h and jumped to it
;   [boot] chs-stage2       INT 13h AH=02h (CHS) read the rest of the loader
;   [boot] edd ...          INT 13h AH=41h/42h: the loader read again by LBA
;                           must equal the CHS copy, and a data block far out
;                           on the disk (past cylinder 0) must match a checksum
;                           computed when the image was assembled
;   [boot] chs-data         the same data block read by CHS (geometry from
;                           AH=08h) must match too
;   [boot] a20              port 92h, verified with a wrap-around test
;   [boot] pm32 ...         32-bit protected mode: arithmetic, string
;                           instructions, recursive calls, a message written
;                           straight into VGA text memory at B8000h, an INT
;                           through our own IDT
;   [boot] real-mode        back through a 16-bit protected-mode segment
;   [boot] timer-irq        STI again: the BIOS tick count (0040:006C) moves
;   VSA-BOOT-OK             on serial and on screen (INT 10h)
;   [boot] shutdown port    power off: "Shutdown" to port 8900h, then (for
;                           peers without that port) APM INT 15h AX=5307h
;
; A failure prints "VSA-BOOT-FAIL <step>" on serial and screen and powers off
; the same way, so a test never has to wait for its timeout to learn why.
; The banner and the final line go to both the screen (INT 10h AH=0Eh) and
; COM1 (initialised by INT 14h, then written by polling the LSR).
;
; Image: 2 cylinders x 16 heads x 63 sectors (1008 KiB), so the BIOS's and
; Bochs's geometry guesses agree with the size. Sector 0 holds the MBR with a
; partition entry and the 55AAh signature; sectors 1..STAGE2_SECTORS the
; rest of the loader; DATA_LBA.. the checksummed data block.
;
; Left out: floppy and CD-ROM boot, paging, IRQs in protected mode.

bits 16
org 7C00h

STAGE2_SECTORS  equ 16                  ; 8 KiB, all on track 0 (63 sectors)
DATA_LBA        equ 1100                ; cylinder 1: a CHS read must get C/H/S right
DATA_SECTORS    equ 4
DATA_DWORDS     equ DATA_SECTORS * 512 / 4
DISK_CYLINDERS  equ 2
DISK_HEADS      equ 16
DISK_SPT        equ 63
DISK_SECTORS    equ DISK_CYLINDERS * DISK_HEADS * DISK_SPT

COM1            equ 3F8h
STAGE2_COPY     equ 1000h               ; segment: the EDD copy of stage 2
DATA_EDD        equ 2000h               ; segment: data block read by EDD
DATA_CHS        equ 3000h               ; segment: data block read by CHS
PM_STACK        equ 90000h
IDT_ADDR        equ 500h                ; 31h gates are enough
INT_VECTOR      equ 30h
VGA_TEXT        equ 0B8000h
VGA_ROW         equ 12
; The EDD disk address packet lives outside the image: stage 2 is compared
; byte for byte with a second copy of itself, so it must not change itself.
dap             equ 600h                ; size 16, reserved, count, offset, segment, LBA
dap_count       equ dap + 2
dap_segment     equ dap + 6
dap_lba         equ dap + 8

; The data block: dword i = i * 9E3779B1h + 12345h. Its checksum, computed
; here by the assembler, is c = rol(c, 1) xor dword for every dword in order,
; so a missing, repeated or swapped sector changes it.
%assign data_checksum 0
%assign i 0
%rep DATA_DWORDS
  %assign d (i * 9E3779B1h + 12345h) & 0FFFFFFFFh
  %assign data_checksum (((data_checksum << 1) | (data_checksum >> 31)) & 0FFFFFFFFh) ^ d
  %assign i i + 1
%endrep
DATA_CHECKSUM equ data_checksum

%macro SERIAL 1         ; a marker on COM1 only
        call serial_inline
        db %1, 0
%endmacro

%macro BOTH 1           ; a line on COM1 and the screen
        call both_inline
        db %1, 0
%endmacro

%macro FAIL 1           ; name the step, power off
        call fail_inline
        db %1, 0
%endmacro

; ============================================================================
; Sector 0: the MBR. Only what is needed to load stage 2, since 446 bytes
; must also hold the output routines the rest of the loader shares.
mbr:
        jmp 0:mbr_start                 ; some BIOSes enter at 07C0:0000
mbr_start:
        cli
        xor ax, ax
        mov ds, ax
        mov es, ax
        mov ss, ax
        mov sp, 7C00h
        sti
        cld
        mov [boot_drive], dl

        mov ah, 0                       ; INT 14h: COM1 9600 8N1
        mov al, 0E3h
        xor dx, dx
        int 14h
        BOTH `VSA boot disk test\n`
        SERIAL `[boot] mbr\n`

        mov bp, 3                       ; disks may need a reset and a retry
.retry: mov ax, 0200h + STAGE2_SECTORS  ; AH=02h read, AL=count
        mov cx, 0002h                   ; cylinder 0, sector 2
        xor dh, dh                      ; head 0
        mov dl, [boot_drive]
        mov bx, 7E00h
        int 13h
        jnc .loaded
        xor ah, ah
        mov dl, [boot_drive]
        int 13h
        dec bp
        jnz .retry
        FAIL "chs-stage2"
.loaded:
        cmp dword [stage2_signature], STAGE2_MAGIC
        je .sig_ok
        FAIL "chs-stage2-signature"
.sig_ok:
        SERIAL `[boot] chs-stage2\n`
        jmp stage2

; putc_serial: AL to COM1, waiting (boundedly) for the transmitter.
putc_serial:
        push dx
        push cx
        push ax
        mov dx, COM1 + 5
        mov cx, 0FFFFh
.wait:  in al, dx
        test al, 20h
        jnz .ready
        loop .wait
.ready: pop ax
        mov dx, COM1
        out dx, al
        pop cx
        pop dx
        ret

; putc_screen: AL through INT 10h teletype, LF as CR LF.
putc_screen:
        pusha
        cmp al, 10
        jne .put
        mov ax, 0E0Dh
        xor bx, bx
        int 10h
        mov al, 10
.put:   mov ah, 0Eh
        mov bx, 0007h
        int 10h
        popa
        ret

; print_inline: prints the string after the caller's CALL; DI selects the
; outputs (bit 0 serial, bit 1 screen). Returns the end of the string in SI.
print_inline:
        cs lodsb
        test al, al
        jz .done
        test di, 1
        jz .screen
        call putc_serial
.screen:
        test di, 2
        jz print_inline
        call putc_screen
        jmp print_inline
.done:  ret

serial_inline:
        push di
        mov di, 1
        jmp inline_common
both_inline:
        push di
        mov di, 3
inline_common:
        push si
        push bp
        mov bp, sp
        mov si, [bp + 6]                ; return address = the string
        call print_inline
        mov [bp + 6], si
        pop bp
        pop si
        pop di
        ret

; fail_inline: "VSA-BOOT-FAIL <step>" everywhere, then power off.
fail_inline:
        BOTH "VSA-BOOT-FAIL "
        pop si
        mov di, 3
        call print_inline
        BOTH `\n`
        jmp power_off

boot_drive:
        db 0

        times 446 - ($ - $$) db 0
; One active partition covering the rest of the disk (type 7Fh, reserved for
; experiments): SeaBIOS does not need it, but tools that inspect the image do.
        db 80h, 0, 2, 0                 ; active, CHS start 0/0/2
        db 7Fh, DISK_HEADS - 1, DISK_SPT | (((DISK_CYLINDERS - 1) >> 8) << 6), (DISK_CYLINDERS - 1) & 0FFh
        dd 1, DISK_SECTORS - 1
        times 3 * 16 db 0
        dw 0AA55h

; ============================================================================
; Sectors 1..STAGE2_SECTORS: the rest of the loader.
STAGE2_MAGIC    equ 32415356h           ; "VSA2"
stage2:
        ; --- EDD: the same bytes by LBA, then the far data block -------------
        mov ah, 41h
        mov bx, 55AAh
        mov dl, [boot_drive]
        int 13h
        jc .no_edd
        cmp bx, 0AA55h
        jne .no_edd
        test cl, 1                      ; packet (42h) functions
        jz .no_edd
        SERIAL `[boot] edd present\n`
        mov dword [dap], 16             ; size 16, reserved 0, count 0
        mov dword [dap + 4], 0          ; buffer offset 0
        mov dword [dap + 12], 0         ; LBA bits 32-63

        mov word [dap_count], STAGE2_SECTORS
        mov word [dap_segment], STAGE2_COPY
        mov dword [dap_lba], 1
        call edd_read
        jc .edd_fail
        push ds
        push es
        mov ax, STAGE2_COPY
        mov es, ax
        xor di, di
        mov si, 7E00h
        mov cx, STAGE2_SECTORS * 512 / 4
        repe cmpsd
        pop es
        pop ds
        jne .edd_mismatch
        SERIAL `[boot] edd-stage2 matches chs\n`

        mov word [dap_count], DATA_SECTORS
        mov word [dap_segment], DATA_EDD
        mov dword [dap_lba], DATA_LBA
        call edd_read
        jc .edd_fail
        mov ax, DATA_EDD
        call data_checksum_at
        cmp eax, DATA_CHECKSUM
        jne .edd_bad_sum
        SERIAL `[boot] edd-data checksum ok\n`
        jmp .chs_data
.edd_fail:
        FAIL "edd-read"
.edd_mismatch:
        FAIL "edd-stage2-mismatch"
.edd_bad_sum:
        FAIL "edd-data-checksum"
.no_edd:
        SERIAL `[boot] edd absent, skipped\n`

        ; --- CHS read of the data block, geometry from AH=08h ----------------
.chs_data:
        mov ah, 08h
        mov dl, [boot_drive]
        push es
        xor di, di
        mov es, di
        int 13h
        pop es
        jc .geo_fail
        and cx, 3Fh                     ; sectors per track
        jz .geo_fail
        movzx ecx, cx
        movzx ebx, dh
        inc ebx                         ; heads
        mov eax, DATA_LBA
        xor edx, edx
        div ecx                         ; EAX = LBA / spt, EDX = LBA % spt
        inc dx
        mov si, dx                      ; sector (1-based)
        xor edx, edx
        div ebx                         ; EAX = cylinder, EDX = head
        mov ch, al                      ; cylinder bits 0-7
        shl ah, 6
        mov cl, ah                      ; cylinder bits 8-9
        or cx, si
        mov dh, dl
        mov dl, [boot_drive]
        mov ax, DATA_CHS
        mov es, ax
        xor bx, bx
        mov ax, 0200h + DATA_SECTORS
        int 13h
        push 0
        pop es
        jc .chs_fail
        mov ax, DATA_CHS
        call data_checksum_at
        cmp eax, DATA_CHECKSUM
        jne .chs_bad_sum
        SERIAL `[boot] chs-data checksum ok\n`
        jmp a20_on
.geo_fail:
        FAIL "chs-geometry"
.chs_fail:
        FAIL "chs-data-read"
.chs_bad_sum:
        FAIL "chs-data-checksum"

; edd_read: INT 13h AH=42h with the packet at dap. CF on error.
edd_read:
        mov ah, 42h
        mov dl, [boot_drive]
        mov si, dap
        int 13h
        ret

; data_checksum_at: EAX = the checksum of the data block at AX:0000.
data_checksum_at:
        push ds
        push si
        push cx
        push edx
        mov ds, ax
        xor si, si
        xor edx, edx
        mov cx, DATA_DWORDS
.next:  lodsd
        rol edx, 1
        xor edx, eax
        loop .next
        mov eax, edx
        pop edx
        pop cx
        pop si
        pop ds
        ret


; --- A20 through port 92h, checked by a wrap-around test -----------------------
a20_on:
        in al, 92h
        or al, 2
        and al, 0FEh                    ; bit 0 would reset the machine
        out 92h, al
        push ds
        mov ax, 0FFFFh
        mov ds, ax                      ; FFFF:0510 = 100500h, aliases 500h without A20
        mov byte [es:500h], 0AAh
        mov byte [ds:510h], 55h
        cmp byte [es:500h], 0AAh
        pop ds
        je .ok
        FAIL "a20"
.ok:    SERIAL `[boot] a20\n`

; --- Protected mode ---------------------------------------------------------------
        SERIAL `[boot] pm32 enter\n`
        cli
        lgdt [gdtr]
        mov eax, cr0
        or al, 1
        mov cr0, eax
        jmp dword 08h:pm32

bits 32
pm32:
        mov ax, 10h
        mov ds, ax
        mov es, ax
        mov fs, ax
        mov gs, ax
        mov ss, ax
        mov esp, PM_STACK
        mov esi, msg_pm_entered
        call pm_serial

        ; Arithmetic: sum 1..1000 with a loop, 10! by IMUL, then divide back.
        xor eax, eax
        mov ecx, 1000
.sum:   add eax, ecx
        loop .sum
        cmp eax, 500500
        jne .arith_fail
        mov eax, 1
        mov ecx, 10
.fact:  imul eax, ecx
        dec ecx
        jnz .fact
        cmp eax, 3628800
        jne .arith_fail
        xor edx, edx
        mov ecx, 720                    ; 10! / 6! = 5040
        div ecx
        cmp eax, 5040
        jne .arith_fail
        test edx, edx
        jnz .arith_fail
        mov esi, msg_pm_arith
        call pm_serial

        ; Strings: copy the VGA message to high memory with MOVSD, compare.
        mov esi, vga_message
        mov edi, 100000h
        mov ecx, (vga_message_len + 3) / 4
        rep movsd
        mov esi, vga_message
        mov edi, 100000h
        mov ecx, vga_message_len
        repe cmpsb
        jne .string_fail
        mov edi, 100000h
        mov ecx, vga_message_len
        mov al, '!'
        repne scasb                     ; the message ends with '!'
        jne .string_fail
        cmp edi, 100000h + vga_message_len
        jne .string_fail
        mov esi, msg_pm_string
        call pm_serial

        ; Calls: fib(20) = 6765 through 21891 nested calls and returns.
        mov eax, 20
        call fib
        cmp eax, 6765
        jne .call_fail
        mov esi, msg_pm_call
        call pm_serial

        ; VGA text memory: white on blue, one row, and read it back.
        mov esi, 100000h                ; the copy made above
        mov edi, VGA_TEXT + VGA_ROW * 160
        mov ecx, vga_message_len
        mov ah, 1Fh
.vga:   lodsb
        stosw
        loop .vga
        cmp word [VGA_TEXT + VGA_ROW * 160], 1F00h | 'V'
        jne .vga_fail
        mov esi, msg_pm_vga
        call pm_serial

        ; An INT through our own IDT; the handler sets a flag.
        mov eax, pm_int_handler
        mov edi, IDT_ADDR + INT_VECTOR * 8
        mov [edi], ax
        mov word [edi + 2], 08h
        mov word [edi + 4], 8E00h       ; present 32-bit interrupt gate
        shr eax, 16
        mov [edi + 6], ax
        lidt [pm_idtr]
        mov dword [int_flag], 0
        int INT_VECTOR
        cmp dword [int_flag], 0C0DEh
        jne .int_fail
        mov esi, msg_pm_int
        call pm_serial
        jmp pm_leave

.arith_fail:
        mov dword [pm_failure], fail_arith
        jmp pm_leave
.string_fail:
        mov dword [pm_failure], fail_string
        jmp pm_leave
.call_fail:
        mov dword [pm_failure], fail_call
        jmp pm_leave
.vga_fail:
        mov dword [pm_failure], fail_vga
        jmp pm_leave
.int_fail:
        mov dword [pm_failure], fail_int
        ; fall through

; Back to real mode: a 16-bit code segment first, then data segments with
; 64 KiB limits, then clear PE and reload CS with a real-mode far jump.
pm_leave:
        jmp 18h:pm16
bits 16
pm16:
        mov ax, 20h
        mov ds, ax
        mov es, ax
        mov fs, ax
        mov gs, ax
        mov ss, ax
        mov eax, cr0
        and al, 0FEh
        mov cr0, eax
        jmp 0:real_again

real_again:
        xor ax, ax
        mov ds, ax
        mov es, ax
        mov fs, ax
        mov gs, ax
        mov ss, ax
        mov esp, 7C00h
        lidt [real_idtr]
        sti
        SERIAL `[boot] real-mode\n`
        mov si, [pm_failure]
        test si, si
        jz .pm_ok
        BOTH "VSA-BOOT-FAIL "
        mov di, 3
        call print_inline
        BOTH `\n`
        jmp power_off
.pm_ok:
        ; Interrupts work again: the BIOS timer tick (18.2 Hz) must move.
        ; HLT waits for any interrupt; give it plenty of them.
        mov eax, [46Ch]
        mov cx, 2000
.tick:  hlt
        cmp eax, [46Ch]
        jne .ticked
        loop .tick
        FAIL "timer-irq"
.ticked:
        SERIAL `[boot] timer-irq\n`
        BOTH `VSA-BOOT-OK\n`
        ; fall through

; --- Power off -----------------------------------------------------------------------
; First the Bochs/QEMU-era power-off port: "Shutdown" to port 8900h, which
; vsa-vm and Bochs honour. SeaBIOS 1.16's APM "set power state off" only
; writes the ACPI PM1a control register of a PIIX4 power-management
; function (our ACPI power device comes with a later issue) and otherwise
; halts with interrupts off, so it runs second, for peers without the port
; (QEMU powers off through ACPI there).
power_off:
        SERIAL `[boot] shutdown port\n`
        mov dx, 8900h
        mov si, shutdown_text
.next:  lodsb
        test al, al
        jz .apm
        out dx, al
        jmp .next
.apm:   mov ax, 5300h                   ; APM installation check
        xor bx, bx
        int 15h
        jc .halt
        cmp bx, 504Dh                   ; "PM"
        jne .halt
        SERIAL `[boot] apm present\n`
        mov ax, 5301h                   ; connect the real-mode interface
        xor bx, bx
        int 15h
        jc .halt
        mov ax, 530Eh                   ; we speak APM 1.2
        xor bx, bx
        mov cx, 0102h
        int 15h
        SERIAL `[boot] apm off\n`
        mov ax, 5307h                   ; all devices: off
        mov bx, 0001h
        mov cx, 0003h
        int 15h
        SERIAL `[boot] apm off returned\n`
.halt:  cli
        hlt
        jmp .halt

shutdown_text:
        db "Shutdown", 0

bits 32
; pm_serial: the NUL-terminated string at ESI to COM1.
pm_serial:
        push eax
        push ecx
        push edx
.next:  lodsb
        test al, al
        jz .done
        mov ah, al
        mov dx, COM1 + 5
        mov ecx, 0FFFFh
.wait:  in al, dx
        test al, 20h
        jnz .ready
        loop .wait
.ready: mov al, ah
        mov dx, COM1
        out dx, al
        jmp .next
.done:  pop edx
        pop ecx
        pop eax
        ret

; fib: EAX = fib(EAX), recursively, to exercise deep call/ret nesting.
fib:
        cmp eax, 2
        jb .leaf
        push ebx
        push eax
        dec eax
        call fib
        mov ebx, eax
        pop eax
        sub eax, 2
        call fib
        add eax, ebx
        pop ebx
.leaf:  ret

pm_int_handler:
        mov dword [int_flag], 0C0DEh
        iretd

bits 16
        align 8
gdt:    dq 0
        dq 00CF9A000000FFFFh            ; 08 code, flat, 32-bit
        dq 00CF92000000FFFFh            ; 10 data, flat
        dq 00009A000000FFFFh            ; 18 code, base 0, 64 KiB, 16-bit
        dq 000092000000FFFFh            ; 20 data, base 0, 64 KiB
gdt_end:
gdtr:   dw gdt_end - gdt - 1
        dd gdt
pm_idtr:
        dw (INT_VECTOR + 1) * 8 - 1
        dd IDT_ADDR
real_idtr:
        dw 3FFh
        dd 0

        align 4
int_flag:
        dd 0
pm_failure:                             ; 0, or the name of the failed PM step
        dd 0

msg_pm_entered: db `[boot] pm32 entered\n`, 0
msg_pm_arith:   db `[boot] pm32 arithmetic ok\n`, 0
msg_pm_string:  db `[boot] pm32 strings ok\n`, 0
msg_pm_call:    db `[boot] pm32 calls ok\n`, 0
msg_pm_vga:     db `[boot] pm32 vga text written\n`, 0
msg_pm_int:     db `[boot] pm32 idt int ok\n`, 0
fail_arith:     db "pm32-arithmetic", 0
fail_string:    db "pm32-strings", 0
fail_call:      db "pm32-calls", 0
fail_vga:       db "pm32-vga", 0
fail_int:       db "pm32-idt-int", 0
vga_message:    db "VSA 32-BIT PROTECTED MODE OK!"
vga_message_len equ $ - vga_message

        times (1 + STAGE2_SECTORS) * 512 - 4 - ($ - $$) db 0
stage2_signature:
        dd STAGE2_MAGIC

; ============================================================================
; Filler up to the data block, the block, and the rest of the disk.
        times DATA_LBA * 512 - ($ - $$) db 0
%assign i 0
%rep DATA_DWORDS
        dd (i * 9E3779B1h + 12345h) & 0FFFFFFFFh
  %assign i i + 1
%endrep
        times DISK_SECTORS * 512 - ($ - $$) db 0
